"""The sentence-transformers 6 module path; the code lives in ``cosine``."""

from .cosine import CosineSimilarityLoss

__all__ = ["CosineSimilarityLoss"]
