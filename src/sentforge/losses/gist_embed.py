"""The sentence-transformers 6 module path; the code lives in ``gist``."""

from .gist import GISTEmbedLoss

__all__ = ["GISTEmbedLoss"]
