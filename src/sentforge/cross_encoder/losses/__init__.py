"""Cross-encoder losses, with sentence-transformers' names, arguments and defaults.

| data | losses |
|---|---|
| (text, text, 0/1 or 0-1 label) | BinaryCrossEntropyLoss |
| (text, text, class id) | CrossEntropyLoss |
| (anchor, positive[, negatives...]) | MultipleNegativesRankingLoss, CachedMultipleNegativesRankingLoss |
| (query, [documents], [labels]) | LambdaLoss, RankNetLoss, ListNetLoss, ListMLELoss, PListMLELoss |
| distillation | MSELoss (teacher score), MarginMSELoss (teacher margin) |
"""

from ...module_aliases import register_module_aliases
from .binary_cross_entropy import BinaryCrossEntropyLoss
from .cached_multiple_negatives_ranking import CachedMultipleNegativesRankingLoss
from .cross_entropy import CrossEntropyLoss
from .lambda_loss import (
    LambdaLoss,
    LambdaRankScheme,
    NDCGLoss1Scheme,
    NDCGLoss2PPScheme,
    NDCGLoss2Scheme,
    NoWeightingScheme,
)
from .list_mle import ListMLELoss
from .list_net import ListNetLoss
from .margin_mse import MarginMSELoss
from .mse import MSELoss
from .multiple_negatives_ranking import MultipleNegativesRankingLoss
from .plist_mle import PListMLELambdaWeight, PListMLELoss
from .rank_net import RankNetLoss

__all__ = [
    "BinaryCrossEntropyLoss",
    "CrossEntropyLoss",
    "MultipleNegativesRankingLoss",
    "CachedMultipleNegativesRankingLoss",
    "MarginMSELoss",
    "MSELoss",
    "ListNetLoss",
    "ListMLELoss",
    "PListMLELoss",
    "PListMLELambdaWeight",
    "LambdaLoss",
    "NoWeightingScheme",
    "NDCGLoss1Scheme",
    "NDCGLoss2Scheme",
    "LambdaRankScheme",
    "NDCGLoss2PPScheme",
    "RankNetLoss",
]

# The pre-6 module paths named like the class: ``from sentforge.cross_encoder.losses.MSELoss import MSELoss``.
register_module_aliases(
    __name__,
    {
        "BinaryCrossEntropyLoss": "binary_cross_entropy",
        "CachedMultipleNegativesRankingLoss": "cached_multiple_negatives_ranking",
        "CrossEntropyLoss": "cross_entropy",
        "LambdaLoss": "lambda_loss",
        "ListMLELoss": "list_mle",
        "ListNetLoss": "list_net",
        "MSELoss": "mse",
        "MarginMSELoss": "margin_mse",
        "MultipleNegativesRankingLoss": "multiple_negatives_ranking",
        "PListMLELoss": "plist_mle",
        "RankNetLoss": "rank_net",
    },
)
