"""The sentence-transformers 6 module path; the code lives in ``cosent``."""

from .cosent import AnglELoss

__all__ = ["AnglELoss"]
