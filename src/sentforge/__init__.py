"""sentforge: train, evaluate, document and serve sentence-embedding models.

Drop-in for the sentence-transformers API: ``from sentforge import SentenceTransformer``.
"""

__version__ = "0.1.0"

from .errors import SentforgeError
from .model import SentenceTransformer
from .similarity import SimilarityFunction

__all__ = ["SentenceTransformer", "SentforgeError", "SimilarityFunction", "__version__"]
