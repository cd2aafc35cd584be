"""TripletLoss: the anchor must be closer to the positive than to the negative by a margin."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from ..similarity import pairwise_cos_sim, pairwise_euclidean_sim, pairwise_manhattan_sim
from .base import BaseLoss, embed_columns
from .contrastive import metric_name

HERMANS_CITATION = """
@misc{hermans2017defense,
    title={In Defense of the Triplet Loss for Person Re-Identification},
    author={Alexander Hermans and Lucas Beyer and Bastian Leibe},
    year={2017},
    eprint={1703.07737},
    archivePrefix={arXiv},
    primaryClass={cs.CV}
}
"""


def _cosine(x: Tensor, y: Tensor) -> Tensor:
    return 1 - pairwise_cos_sim(x, y)


def _euclidean(x: Tensor, y: Tensor) -> Tensor:
    return -pairwise_euclidean_sim(x, y)


def _manhattan(x: Tensor, y: Tensor) -> Tensor:
    return -pairwise_manhattan_sim(x, y)


class TripletDistanceMetric:
    """Pairwise distance functions for TripletLoss (row i of x to row i of y)."""

    COSINE = staticmethod(_cosine)
    EUCLIDEAN = staticmethod(_euclidean)
    MANHATTAN = staticmethod(_manhattan)


class TripletLoss(BaseLoss):
    """``relu(d(anchor, positive) - d(anchor, negative) + triplet_margin)``, averaged."""

    min_text_columns = 3
    max_text_columns = 3

    def __init__(
        self, model, distance_metric: Callable = TripletDistanceMetric.EUCLIDEAN, triplet_margin: float = 5
    ) -> None:
        super().__init__()
        self.model = model
        self.distance_metric = distance_metric
        self.triplet_margin = triplet_margin

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> Tensor:
        anchor, positive, negative = embeddings
        distance_pos = self.distance_metric(anchor, positive)
        distance_neg = self.distance_metric(anchor, negative)
        return F.relu(distance_pos - distance_neg + self.triplet_margin).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": metric_name(self.distance_metric, TripletDistanceMetric),
            "triplet_margin": self.triplet_margin,
        }

    @property
    def citation(self) -> str:
        return HERMANS_CITATION
