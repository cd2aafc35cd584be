"""The sentence-transformers 6 module path; the code lives in ``distillation``."""

from .distillation import MSELoss

__all__ = ["MSELoss"]
