"""The sentence-transformers 6 module path; the code lives in ``contrastive``."""

from .contrastive import OnlineContrastiveLoss

__all__ = ["OnlineContrastiveLoss"]
