"""The sentence-transformers 6 module path; the code lives in ``distillation``."""

from .distillation import MarginMSELoss

__all__ = ["MarginMSELoss"]
