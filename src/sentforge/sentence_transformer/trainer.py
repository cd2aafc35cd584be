"""Drop-in path ``sentforge.sentence_transformer.trainer``: the trainer."""

from ..training.trainer import SentenceTransformerTrainer

__all__ = ["SentenceTransformerTrainer"]
