"""BatchHardSoftMarginTripletLoss: BatchHardTripletLoss with ``softplus`` in place of the hinge and
its margin (Hermans et al. 2017), so there is no margin to tune."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch.nn.functional as F
from torch import Tensor

from .batch_triplet import BatchHardTripletLoss, BatchHardTripletLossDistanceFunction, anchor_positive_mask


class BatchHardSoftMarginTripletLoss(BatchHardTripletLoss):
    """For each anchor: ``softplus(d(farthest positive) - d(closest negative))``, averaged."""

    def __init__(
        self, model, distance_metric: Callable = BatchHardTripletLossDistanceFunction.euclidean_distance
    ) -> None:
        super().__init__(model, distance_metric=distance_metric)

    def triplet_loss(self, labels: Tensor, embeddings: Tensor) -> Tensor:
        distances = self.distance_metric(embeddings)
        hardest_positive = (anchor_positive_mask(labels).float() * distances).max(1, keepdim=True)[0]
        same_label = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
        row_max = distances.max(1, keepdim=True)[0]
        hardest_negative = (distances + row_max * same_label).min(1, keepdim=True)[0]
        return F.softplus(hardest_positive - hardest_negative).mean()

    batch_hard_triplet_loss = triplet_loss
    batch_hard_triplet_soft_margin_loss = triplet_loss

    def get_config_dict(self) -> dict[str, Any]:
        return {"distance_metric": getattr(self.distance_metric, "__name__", str(self.distance_metric))}
