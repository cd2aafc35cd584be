"""ContrastiveLoss and OnlineContrastiveLoss: pull positive pairs together, push negatives apart.

Rows are (text1, text2, label) with label 1 for similar and 0 for dissimilar pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from .base import BaseLoss, LabelKind, check_label_count, embed_columns

HADSELL_CITATION = """
@inproceedings{hadsell2006dimensionality,
    author={Hadsell, R. and Chopra, S. and LeCun, Y.},
    booktitle={2006 IEEE Computer Society Conference on Computer Vision and Pattern Recognition (CVPR'06)},
    title={Dimensionality Reduction by Learning an Invariant Mapping},
    year={2006},
    volume={2},
    number={},
    pages={1735-1742},
    doi={10.1109/CVPR.2006.100}
}
"""


def _euclidean(x: Tensor, y: Tensor) -> Tensor:
    return F.pairwise_distance(x, y, p=2)


def _manhattan(x: Tensor, y: Tensor) -> Tensor:
    return F.pairwise_distance(x, y, p=1)


def _cosine_distance(x: Tensor, y: Tensor) -> Tensor:
    return 1 - F.cosine_similarity(x, y)


class SiameseDistanceMetric:
    """Pairwise distance functions for the contrastive losses (row i of x to row i of y)."""

    EUCLIDEAN = staticmethod(_euclidean)
    MANHATTAN = staticmethod(_manhattan)
    COSINE_DISTANCE = staticmethod(_cosine_distance)


def metric_name(metric: Callable, owner: type) -> str:
    """``Owner.NAME`` for a metric defined on ``owner``, else the function's own name."""
    for name in dir(owner):
        if not name.startswith("_") and getattr(owner, name) is metric:
            return f"{owner.__name__}.{name}"
    return getattr(metric, "__name__", str(metric))


class ContrastiveLoss(BaseLoss):
    """``0.5 * (y * d^2 + (1 - y) * relu(margin - d)^2)``, averaged (or summed)."""

    label_kind = LabelKind.BINARY
    min_text_columns = 2
    max_text_columns = 2

    def __init__(
        self,
        model,
        distance_metric: Callable = SiameseDistanceMetric.COSINE_DISTANCE,
        margin: float = 0.5,
        size_average: bool = True,
    ) -> None:
        super().__init__()
        self.distance_metric = distance_metric
        self.margin = margin
        self.model = model
        self.size_average = size_average

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        labels = check_label_count(self, labels, embeddings[0].shape[0]).float()
        distances = self.distance_metric(embeddings[0], embeddings[1])
        losses = 0.5 * (labels * distances.pow(2) + (1 - labels) * F.relu(self.margin - distances).pow(2))
        return losses.mean() if self.size_average else losses.sum()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": metric_name(self.distance_metric, SiameseDistanceMetric),
            "margin": self.margin,
            "size_average": self.size_average,
        }

    @property
    def citation(self) -> str:
        return HADSELL_CITATION


class OnlineContrastiveLoss(BaseLoss):
    """ContrastiveLoss on the hard pairs only: positives farther apart than the closest
    negative, negatives closer than the farthest positive. Summed, not averaged."""

    label_kind = LabelKind.BINARY
    min_text_columns = 2
    max_text_columns = 2

    def __init__(
        self, model, distance_metric: Callable = SiameseDistanceMetric.COSINE_DISTANCE, margin: float = 0.5
    ) -> None:
        super().__init__()
        self.model = model
        self.margin = margin
        self.distance_metric = distance_metric

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor, size_average=False) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        labels = check_label_count(self, labels, embeddings[0].shape[0])
        distances = self.distance_metric(embeddings[0], embeddings[1])
        negatives = distances[labels == 0]
        positives = distances[labels == 1]
        hard_negatives = negatives[negatives < (positives.max() if len(positives) else negatives.mean())]
        hard_positives = positives[positives > (negatives.min() if len(negatives) else positives.mean())]
        return hard_positives.pow(2).sum() + F.relu(self.margin - hard_negatives).pow(2).sum()

    def get_config_dict(self) -> dict[str, Any]:
        return {"distance_metric": metric_name(self.distance_metric, SiameseDistanceMetric), "margin": self.margin}
