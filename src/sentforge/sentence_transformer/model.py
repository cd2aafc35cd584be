"""Drop-in path ``sentforge.sentence_transformer.model``: the SentenceTransformer class."""

from ..model import SentenceTransformer

__all__ = ["SentenceTransformer"]
