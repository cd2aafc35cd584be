"""BatchSemiHardTripletLoss: for each (anchor, positive), the closest negative that is still farther
away than the positive (FaceNet's semi-hard negative); the farthest negative when there is none."""

from __future__ import annotations

import torch
from torch import Tensor

from .base import check_label_count
from .batch_triplet import _BatchTripletBase


class BatchSemiHardTripletLoss(_BatchTripletBase):
    """(text, class id) rows; the loss is averaged over every valid (anchor, positive) pair."""

    @property
    def margin(self) -> float:
        """The margin, under the attribute name sentence-transformers uses for this loss."""
        return self.triplet_margin

    @margin.setter
    def margin(self, value: float) -> None:
        self.triplet_margin = value

    def triplet_loss(self, labels: Tensor, embeddings: Tensor) -> Tensor:
        return self.batch_semi_hard_triplet_loss(labels, embeddings)

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


def _masked_maximum(data: Tensor, mask: Tensor, dim: int = 1) -> Tensor:
    """Row maxima of ``data`` over the entries where ``mask`` is True (the row minimum if none)."""
    minimums = data.min(dim, keepdim=True).values
    return ((data - minimums) * mask).max(dim, keepdim=True).values + minimums
