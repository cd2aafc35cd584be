"""The sentence-transformers 6 module path; the code lives in ``batch_triplet``."""

from .batch_triplet import BatchAllTripletLoss

__all__ = ["BatchAllTripletLoss"]
