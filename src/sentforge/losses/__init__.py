"""Training losses, drop-in compatible with ``sentence_transformers.losses``.

Each loss is an ``nn.Module`` built as ``Loss(model, ...)`` and called as
``loss(sentence_features, labels)``; it declares the data it needs (see
:class:`~sentforge.losses.base.BaseLoss`) so :func:`validate_loss_inputs` can reject bad data
before training.
"""

from __future__ import annotations

# Modules named like a class (kept for old import paths) come first: importing a submodule binds
# it as an attribute of this package, and the class imports below must win that name.
from . import ContrastiveLoss as _contrastive_module  # noqa: F401  isort: skip
from . import TripletLoss as _triplet_module  # noqa: F401  isort: skip

from .base import BaseLoss, LabelKind, embed_columns
from .batch_triplet import BatchAllTripletLoss, BatchHardTripletLoss, BatchHardTripletLossDistanceFunction
from .cached_ranking import CachedMultipleNegativesRankingLoss, CachedMultipleNegativesSymmetricRankingLoss
from .contrastive import ContrastiveLoss, OnlineContrastiveLoss, SiameseDistanceMetric
from .cosent import AnglELoss, CoSENTLoss
from .cosine import CosineSimilarityLoss
from .display import loss_display_name
from .distillation import MarginMSELoss, MSELoss
from .gist import GISTEmbedLoss
from .matryoshka import MatryoshkaLoss
from .ranking import MultipleNegativesRankingLoss, MultipleNegativesSymmetricRankingLoss
from .softmax import SoftmaxLoss
from .triplet import TripletDistanceMetric, TripletLoss
from .validation import validate_loss_inputs

__all__ = [
    "AnglELoss",
    "BaseLoss",
    "BatchAllTripletLoss",
    "BatchHardTripletLoss",
    "BatchHardTripletLossDistanceFunction",
    "CachedMultipleNegativesRankingLoss",
    "CachedMultipleNegativesSymmetricRankingLoss",
    "CoSENTLoss",
    "ContrastiveLoss",
    "CosineSimilarityLoss",
    "GISTEmbedLoss",
    "LabelKind",
    "MSELoss",
    "MarginMSELoss",
    "MatryoshkaLoss",
    "MultipleNegativesRankingLoss",
    "MultipleNegativesSymmetricRankingLoss",
    "OnlineContrastiveLoss",
    "SiameseDistanceMetric",
    "SoftmaxLoss",
    "TripletDistanceMetric",
    "TripletLoss",
    "embed_columns",
    "loss_display_name",
    "validate_loss_inputs",
]
