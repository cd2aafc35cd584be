"""Drop-in path `sentforge.similarity_functions` (as in sentence-transformers)."""

from .similarity import SimilarityFunction

__all__ = ["SimilarityFunction"]
