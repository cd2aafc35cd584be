"""The building blocks of a SentenceTransformer, one concept per file."""

from .dense import Dense
from .normalize import Normalize
from .pooling import Pooling
from .transformer import Transformer

__all__ = ["Transformer", "Pooling", "Dense", "Normalize"]
