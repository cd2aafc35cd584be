"""Import path kept from sentence-transformers: ``sentforge.losses.TripletLoss``."""

from .triplet import TripletDistanceMetric, TripletLoss

__all__ = ["TripletDistanceMetric", "TripletLoss"]
