"""DistillKLDivLoss: match the student's distribution over a query's candidates to the teacher's,
by KL divergence of the temperature-scaled softmaxes (Lin et al. 2020)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from ..similarity import pairwise_dot_score
from .base import BaseLoss, LabelKind, embed_columns, similarity_fct_name
from ..util.misc import check_teacher_targets

LIN_CITATION = """
@misc{lin2020distillingdenserepresentationsranking,
      title={Distilling Dense Representations for Ranking using Tightly-Coupled Teachers},
      author={Sheng-Chieh Lin and Jheng-Hong Yang and Jimmy Lin},
      year={2020},
      eprint={2010.11386},
      archivePrefix={arXiv},
      primaryClass={cs.IR},
      url={https://arxiv.org/abs/2010.11386},
}
"""


class DistillKLDivLoss(BaseLoss):
    """Rows (query, positive, negative_1, ...); labels: the teacher's score for each candidate."""

    label_kind = LabelKind.SCORES
    min_text_columns = 3

    def __init__(
        self,
        model,
        similarity_fct: Callable = pairwise_dot_score,
        temperature: float = 1.0,
        student_temperature: float | None = None,
        teacher_temperature: float | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.similarity_fct = similarity_fct
        self.temperature = temperature
        self.student_temperature = student_temperature if student_temperature is not None else temperature
        self.teacher_temperature = teacher_temperature if teacher_temperature is not None else temperature
        for label in ("temperature", "student_temperature", "teacher_temperature"):
            value = getattr(self, label)
            if not 0 < value < math.inf:
                raise ValueError(f"{label} must be a positive finite number, got {value}.")
        self.loss_fct = nn.KLDivLoss(reduction="batchmean")
        self._checked_teacher_scale = False

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        if len(embeddings) < 3:
            raise ValueError(
                f"{type(self).__name__} expects at least 3 columns (query, positive, negative_1, ...), "
                f"but got {len(embeddings)}. A softmax over one candidate is constant, so the loss and "
                "its gradient would be identically zero. Add at least a second candidate column."
            )
        query, candidates = embeddings[0], embeddings[1:]
        if labels.shape != (query.size(0), len(candidates)):
            raise ValueError(
                f"{type(self).__name__} expects teacher scores of shape (batch_size, N) = "
                f"({query.size(0)}, {len(candidates)}) for N candidate columns, but got {tuple(labels.shape)}."
            )
        student_scores = torch.stack([self.similarity_fct(query, other) for other in candidates], dim=1)
        student_log_probs = torch.log_softmax(student_scores / self.student_temperature, dim=1)
        teacher_probs = torch.softmax(labels.detach() / self.teacher_temperature, dim=1)
        if not self._checked_teacher_scale:
            self._checked_teacher_scale = True
            check_teacher_targets(teacher_probs, labels, self.teacher_temperature, type(self).__name__)
        # times T^2, so gradient magnitudes do not shrink as the temperature grows
        return self.loss_fct(student_log_probs, teacher_probs) * self.student_temperature**2

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "similarity_fct": similarity_fct_name(self.similarity_fct),
            "temperature": self.temperature,
        }
        if self.student_temperature != self.temperature:
            config["student_temperature"] = self.student_temperature
        if self.teacher_temperature != self.temperature:
            config["teacher_temperature"] = self.teacher_temperature
        return config

    @property
    def citation(self) -> str:
        return LIN_CITATION
