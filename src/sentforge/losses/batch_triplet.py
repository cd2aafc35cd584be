"""Batch triplet losses over (text, class id) rows: every row is an anchor, rows with its label
are positives and rows with another label negatives (Hermans et al. 2017)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ..similarity import cos_sim
from .base import BaseLoss, LabelKind, check_label_count, embed_columns
from .triplet import HERMANS_CITATION


class BatchHardTripletLossDistanceFunction:
    """Distance matrices between all rows of a batch."""

    @staticmethod
    def cosine_distance(embeddings: Tensor) -> Tensor:
        return 1 - cos_sim(embeddings, embeddings)

    @staticmethod
    def euclidean_distance(embeddings: Tensor, squared: bool = False) -> Tensor:
        """Euclidean distances via ``|a|^2 - 2ab + |b|^2``; 0 exactly on the diagonal."""
        with torch.autocast(device_type=embeddings.device.type, enabled=False):
            if embeddings.dtype in (torch.float16, torch.bfloat16):
                embeddings = embeddings.float()
            dot_product = embeddings @ embeddings.T
        square_norm = torch.diag(dot_product)
        distances = (square_norm.unsqueeze(0) - 2.0 * dot_product + square_norm.unsqueeze(1)).clamp(min=0)
        if not squared:
            # sqrt has an infinite gradient at 0: take it of an epsilon there, then zero it out.
            zero = distances.eq(0).float()
            distances = (1.0 - zero) * torch.sqrt(distances + zero * 1e-16)
        return distances

    eucledian_distance = euclidean_distance  # misspelt name kept for old scripts


def anchor_positive_mask(labels: Tensor) -> Tensor:
    """[a, p] is True when a != p and both have the same label."""
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    return same & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)


class _BatchTripletBase(BaseLoss):
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
        self.triplet_margin = margin
        self.distance_metric = distance_metric

    @property
    def sentence_embedder(self):
        """The model, under the attribute name sentence-transformers uses for these losses."""
        return self.model

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        embeddings = embed_columns(self.model, list(sentence_features)[:1])
        return self.compute_loss_from_embeddings(embeddings, labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        labels = check_label_count(self, labels, embeddings[0].shape[0])
        return self.triplet_loss(labels, embeddings[0])

    def triplet_loss(self, labels: Tensor, embeddings: Tensor) -> Tensor:
        raise NotImplementedError

    def get_config_dict(self) -> dict[str, Any]:
        name = getattr(self.distance_metric, "__name__", str(self.distance_metric))
        return {"distance_metric": name, "margin": self.triplet_margin}

    @property
    def citation(self) -> str:
        return HERMANS_CITATION


class BatchHardTripletLoss(_BatchTripletBase):
    """For each anchor: its farthest positive against its closest negative."""

    def triplet_loss(self, labels: Tensor, embeddings: Tensor) -> Tensor:
        distances = self.distance_metric(embeddings)
        hardest_positive = (anchor_positive_mask(labels).float() * distances).max(1, keepdim=True)[0]
        # Rows with the anchor's own label are pushed out of reach before taking the minimum.
        same_label = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
        row_max = distances.max(1, keepdim=True)[0]
        hardest_negative = (distances + row_max * same_label).min(1, keepdim=True)[0]
        return torch.relu(hardest_positive - hardest_negative + self.triplet_margin).mean()

    batch_hard_triplet_loss = triplet_loss


class BatchAllTripletLoss(_BatchTripletBase):
    """All valid (anchor, positive, negative) triplets; mean over those with a positive loss."""

    def triplet_loss(self, labels: Tensor, embeddings: Tensor) -> Tensor:
        distances = self.distance_metric(embeddings)
        anchors, positives = anchor_positive_mask(labels).nonzero(as_tuple=True)
        losses = distances[anchors, positives].unsqueeze(1) - distances[anchors] + self.triplet_margin
        is_negative = labels[anchors].unsqueeze(1) != labels.unsqueeze(0)
        losses = (is_negative.float() * losses).clamp(min=0)
        num_active = (losses > 1e-16).sum()
        return losses.sum() / (num_active + 1e-16)

    batch_all_triplet_loss = triplet_loss
