"""Import path kept from sentence-transformers: ``sentforge.losses.ContrastiveLoss``."""

from .contrastive import ContrastiveLoss, SiameseDistanceMetric

__all__ = ["ContrastiveLoss", "SiameseDistanceMetric"]
