"""Drop-in path `sentforge.models` (as `sentence_transformers.models`): the module classes."""

from .modules import Dense, Normalize, Pooling, Transformer

__all__ = ["Transformer", "Pooling", "Dense", "Normalize"]
