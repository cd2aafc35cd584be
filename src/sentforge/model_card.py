"""Drop-in path `sentforge.model_card` (as `sentence_transformers.model_card`)."""

from .card.info import SentenceTransformerModelCardData

__all__ = ["SentenceTransformerModelCardData"]
