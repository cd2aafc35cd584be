"""The sentence-transformers 6 module path; the code lives in ``ranking``."""

from .ranking import MultipleNegativesRankingLoss

__all__ = ["MultipleNegativesRankingLoss"]
