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

from ..module_aliases import register_module_aliases
from .adaptive_layer import AdaptiveLayerLoss
from .base import BaseLoss, LabelKind, embed_columns
from .batch_hard_soft_margin_triplet import BatchHardSoftMarginTripletLoss
from .batch_semi_hard_triplet import BatchSemiHardTripletLoss
from .batch_triplet import BatchAllTripletLoss, BatchHardTripletLoss, BatchHardTripletLossDistanceFunction
from .cached_gist_embed import CachedGISTEmbedLoss
from .cached_ranking import CachedMultipleNegativesRankingLoss, CachedMultipleNegativesSymmetricRankingLoss
from .contrastive import ContrastiveLoss, OnlineContrastiveLoss, SiameseDistanceMetric
from .contrastive_tension import (
    ContrastiveTensionDataLoader,
    ContrastiveTensionLoss,
    ContrastiveTensionLossInBatchNegatives,
)
from .cosent import AnglELoss, CoSENTLoss
from .cosine import CosineSimilarityLoss
from .denoising_auto_encoder import DenoisingAutoEncoderLoss
from .display import loss_display_name
from .distill_kl_div import DistillKLDivLoss
from .distillation import MarginMSELoss, MSELoss
from .embed_distill import EmbedDistillLoss
from .gist import GISTEmbedLoss
from .global_orthogonal_regularization import GlobalOrthogonalRegularizationLoss
from .matryoshka import MatryoshkaLoss
from .matryoshka_2d import Matryoshka2dLoss
from .mega_batch_margin import MegaBatchMarginLoss
from .ranking import MultipleNegativesRankingLoss, MultipleNegativesSymmetricRankingLoss
from .softmax import SoftmaxLoss
from .triplet import TripletDistanceMetric, TripletLoss
from .validation import validate_loss_inputs

# Thin modules giving sentence-transformers 6 module names (e.g. ``losses.mse``) to losses whose code lives
# in a shared family file; the other 6.x names are the family files themselves.
from . import (  # noqa: E402,F401  isort: skip
    angle,
    batch_all_triplet,
    batch_hard_triplet,
    cached_multiple_negatives_ranking,
    cached_multiple_negatives_symmetric_ranking,
    cosine_similarity,
    gist_embed,
    margin_mse,
    mse,
    multiple_negatives_ranking,
    multiple_negatives_symmetric_ranking,
    online_contrastive,
)

# Older module paths named like the class (``sentforge.losses.MSELoss``): aliases of the modules
# above, so ``from sentforge.losses.MSELoss import MSELoss`` works while ``losses.MSELoss`` stays the class.
register_module_aliases(
    __name__,
    {
        "AdaptiveLayerLoss": "adaptive_layer",
        "AnglELoss": "angle",
        "BatchAllTripletLoss": "batch_all_triplet",
        "BatchHardSoftMarginTripletLoss": "batch_hard_soft_margin_triplet",
        "BatchHardTripletLoss": "batch_hard_triplet",
        "BatchSemiHardTripletLoss": "batch_semi_hard_triplet",
        "CachedGISTEmbedLoss": "cached_gist_embed",
        "CachedMultipleNegativesRankingLoss": "cached_multiple_negatives_ranking",
        "CachedMultipleNegativesSymmetricRankingLoss": "cached_multiple_negatives_symmetric_ranking",
        "CoSENTLoss": "cosent",
        "ContrastiveTensionLoss": "contrastive_tension",
        "CosineSimilarityLoss": "cosine_similarity",
        "DenoisingAutoEncoderLoss": "denoising_auto_encoder",
        "DistillKLDivLoss": "distill_kl_div",
        "GISTEmbedLoss": "gist_embed",
        "MSELoss": "mse",
        "MarginMSELoss": "margin_mse",
        "Matryoshka2dLoss": "matryoshka_2d",
        "MatryoshkaLoss": "matryoshka",
        "MegaBatchMarginLoss": "mega_batch_margin",
        "MultipleNegativesRankingLoss": "multiple_negatives_ranking",
        "MultipleNegativesSymmetricRankingLoss": "multiple_negatives_symmetric_ranking",
        "OnlineContrastiveLoss": "online_contrastive",
        "SoftmaxLoss": "softmax",
    },
)

__all__ = [
    "AdaptiveLayerLoss",
    "AnglELoss",
    "BaseLoss",
    "BatchAllTripletLoss",
    "BatchHardSoftMarginTripletLoss",
    "BatchHardTripletLoss",
    "BatchHardTripletLossDistanceFunction",
    "BatchSemiHardTripletLoss",
    "CachedGISTEmbedLoss",
    "CachedMultipleNegativesRankingLoss",
    "CachedMultipleNegativesSymmetricRankingLoss",
    "CoSENTLoss",
    "ContrastiveLoss",
    "ContrastiveTensionDataLoader",
    "ContrastiveTensionLoss",
    "ContrastiveTensionLossInBatchNegatives",
    "CosineSimilarityLoss",
    "DenoisingAutoEncoderLoss",
    "DistillKLDivLoss",
    "EmbedDistillLoss",
    "GISTEmbedLoss",
    "GlobalOrthogonalRegularizationLoss",
    "LabelKind",
    "MSELoss",
    "MarginMSELoss",
    "Matryoshka2dLoss",
    "MatryoshkaLoss",
    "MegaBatchMarginLoss",
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
