"""CosineSimilarityLoss: regress the cosine similarity of a text pair onto a float label."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .base import BaseLoss, LabelKind, check_label_count, embed_columns, fullname


class CosineSimilarityLoss(BaseLoss):
    """``loss_fct(cos_score_transformation(cos(u, v)), label)`` for (text1, text2, score) rows.

    Labels are similarity scores within [-1, 1] (usually 0..1); e.g. STS scores of 0..5 must be
    divided by 5 first.
    """

    label_kind = LabelKind.SCORE
    label_range = (-1.0, 1.0)
    min_text_columns = 2
    max_text_columns = 2

    def __init__(
        self,
        model,
        loss_fct: nn.Module = nn.MSELoss(),
        cos_score_transformation: nn.Module = nn.Identity(),
    ) -> None:
        super().__init__()
        self.model = model
        self.loss_fct = loss_fct
        self.cos_score_transformation = cos_score_transformation

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        labels = check_label_count(self, labels, embeddings[0].shape[0])
        scores = self.cos_score_transformation(torch.cosine_similarity(embeddings[0], embeddings[1]))
        return self.loss_fct(scores, labels.float())

    def get_config_dict(self) -> dict[str, Any]:
        config = {"loss_fct": fullname(self.loss_fct)}
        if not isinstance(self.cos_score_transformation, nn.Identity):
            config["cos_score_transformation"] = fullname(self.cos_score_transformation)
        return config
