"""The sentence-transformers 6 module path; the code lives in ``cached_ranking``."""

from .cached_ranking import CachedMultipleNegativesRankingLoss

__all__ = ["CachedMultipleNegativesRankingLoss"]
