"""BatchSemiHardTripletLoss: for each (anchor, positive), the closest negative that is still farther
away than the positive (FaceNet's semi-hard negative); the farthest negative when there is none."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from .base import BaseLoss, LabelKind, check_label_count, embed_columns
from .batch_triplet import BatchHardTripletLossDistanceFunction
from .triplet import HERMANS_CITATION


class BatchSemiHardTripletLoss(BaseLoss):
    """(text, class id) rows; the loss is averaged over every valid (anchor, positive) pair."""

    label_kind = LabelKind.CLASS_ID
    min_text_columns = 1
    max_text_columns = 1

    def __init__(
        self,
        model,
        distance_metric: Callable = BatchHardTripletLossDistanceFunction.euclidean_distance,
        margin: float = 5,
    ) -> None:
        super().__init__()
        self.model = model
        self.margin = margin
        self.distance_metric = distance_metric

    @property
    def sentence_embedder(self):
        """The model, under the attribute name sentence-transformers uses for this loss."""
        return self.model

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embeddings = embed_columns(self.model, list(sentence_features)[:1])
        return self.compute_loss_from_embeddings(embeddings, labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        return self.batch_semi_hard_triplet_loss(labels, embeddings[0])

    def batch_semi_hard_triplet_loss(self, labels: Tensor, embeddings: Tensor) -> Tensor:
        labels = check_label_count(self, labels, embeddings.shape[0]).unsqueeze(1)
        batch_size = labels.numel()
        distances = self.distance_metric(embeddings)
        same_label = labels == labels.t()

        # Per row, the negatives' distances in ascending order; searching each positive's distance
        # in it gives the closest negative beyond that positive without a cubic mask.
        sorted_negatives = distances.masked_fill(same_label, torch.inf).sort(dim=1, stable=True).values
        positions = torch.searchsorted(
            sorted_negatives.detach().contiguous(), distances.detach().contiguous(), right=True
        )
        beyond = sorted_negatives.gather(1, positions.clamp(max=batch_size - 1))
        farthest = _masked_maximum(distances, ~same_label)
        semi_hard = torch.where(torch.isfinite(beyond), beyond, farthest)

        positives = same_label.float() - torch.eye(batch_size, device=labels.device)
        losses = (distances - semi_hard + self.margin) * positives
        total = torch.max(losses, torch.tensor([0.0], device=labels.device)).sum()
        return total / positives.sum().clamp(min=1e-16)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "distance_metric": getattr(self.distance_metric, "__name__", str(self.distance_metric)),
            "margin": self.margin,
        }

    @property
    def citation(self) -> str:
        return HERMANS_CITATION


def _masked_maximum(data: Tensor, mask: Tensor, dim: int = 1) -> Tensor:
    """Row maxima of ``data`` over the entries where ``mask`` is True (the row minimum if none)."""
    minimums = data.min(dim, keepdim=True).values
    return ((data - minimums) * mask).max(dim, keepdim=True).values + minimums
