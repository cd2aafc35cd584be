"""Drop-in path `sentforge.trainer` (as `sentence_transformers.trainer`)."""

from .training.trainer import SentenceTransformerTrainer

__all__ = ["SentenceTransformerTrainer"]
