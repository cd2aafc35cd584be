"""MultipleNegativesRankingLoss for cross-encoders: the positive against sampled in-batch and hard negatives."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn

from .base import activation_name, check_model, pair_scores


class MultipleNegativesRankingLoss(nn.Module):
    """Cross-entropy over [positive, negatives] scores per anchor, on (anchor, positive[, negative_1, ...]) rows.

    Each anchor is scored against its positive, ``num_negatives`` other rows' documents drawn at
    random (all of them when None) and its own hard negatives; the scores are ``activation_fn``-ed
    and multiplied by ``scale``. Every pair of a batch goes through one forward.
    """

    def __init__(self, model, num_negatives: int | None = 4, scale: int = 10.0,
                 activation_fn: nn.Module | None = nn.Sigmoid()) -> None:
        super().__init__()
        self.model = model
        self.num_negatives = num_negatives
        self.scale = scale
        self.activation_fn = activation_fn
        self.cross_entropy_loss = nn.CrossEntropyLoss()
        check_model(self, model)

    def candidate_columns(self, inputs: list[list[str]]) -> list[list[str]]:
        """The documents each anchor is scored against, column by column: positive, sampled, hard negatives."""
        return [list(inputs[1]), *self.get_in_batch_negatives(inputs[0], inputs[1:]), *map(list, inputs[2:])]

    def get_in_batch_negatives(self, anchors: list[str], candidates: list[list[str]]) -> Iterator[list[str]]:
        """Columns of other rows' documents (the same draw as sentence-transformers, seed for seed)."""
        batch_size = len(anchors)
        num_columns = len(candidates)
        flattened = [candidate for column in candidates for candidate in column]
        mask = ~torch.eye(batch_size, dtype=torch.bool).repeat(1, num_columns)
        valid_negatives = len(flattened) - num_columns
        if self.num_negatives is not None and self.num_negatives < valid_negatives:
            negative_indices = torch.multinomial(mask.float(), self.num_negatives)
        else:
            all_indices = torch.arange(batch_size * num_columns).repeat(batch_size, 1)
            negative_indices = all_indices[mask].reshape(batch_size, -1)
        for row in negative_indices.T:
            yield [flattened[index] for index in row]

    def calculate_loss(self, logits: list[Tensor] | Tensor, batch_size: int) -> Tensor:
        """Cross-entropy with the positive (column 0) as the target, from ``[columns * batch]`` logits."""
        if isinstance(logits, (list, tuple)):
            logits = torch.cat(logits, dim=0)
        logits = logits.reshape(-1, batch_size).T
        if self.activation_fn:
            logits = self.activation_fn(logits)
        if self.scale:
            logits = logits * self.scale
        labels = torch.zeros(batch_size, device=logits.device, dtype=torch.long)
        return self.cross_entropy_loss(logits, labels)

    def forward(self, inputs: list[list[str]], labels: Tensor | None = None, prompt: str | None = None,
                task: str | None = None) -> Tensor:
        anchors = list(inputs[0])
        columns = self.candidate_columns(inputs)
        documents = [text for column in columns for text in column]
        logits = pair_scores(self.model, anchors * len(columns), documents, prompt)
        return self.calculate_loss(logits, len(anchors))

    def get_config_dict(self) -> dict:
        return {
            "scale": self.scale,
            "num_negatives": self.num_negatives,
            "activation_fn": activation_name(self.activation_fn),
        }
