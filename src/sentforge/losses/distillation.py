"""Distillation losses: MSELoss (match a teacher's embeddings) and MarginMSELoss (match its margins)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from ..similarity import pairwise_dot_score
from .base import BaseLoss, LabelKind, embed_columns, model_embedding_dim, similarity_fct_name

MSE_CITATION = """
@inproceedings{reimers-2020-multilingual-sentence-bert,
    title = "Making Monolingual Sentence Embeddings Multilingual using Knowledge Distillation",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2020 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2020",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/2004.09813",
}
"""

MARGIN_MSE_CITATION = """
@misc{hofstätter2021improving,
    title={Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge Distillation},
    author={Sebastian Hofstätter and Sophia Althammer and Michael Schröder and Mete Sertkan and Allan Hanbury},
    year={2021},
    eprint={2010.02666},
    archivePrefix={arXiv},
    primaryClass={cs.IR}
}
"""


class MSELoss(BaseLoss):
    """Mean squared error between each text column's embedding and the teacher embedding label.

    Labels are ``(batch, dim)`` (one teacher embedding for every column, e.g. a sentence and its
    translations) or ``(batch, columns, dim)``. ``projection_dim`` adds a trainable linear map
    from the student's to the teacher's dimension.
    """

    label_kind = LabelKind.EMBEDDING
    min_text_columns = 1

    def __init__(self, model, projection_dim: int | None = None) -> None:
        super().__init__()
        self.model = model
        self.projection_dim = projection_dim
        self.projection: nn.Linear | None = None
        if projection_dim is not None:
            student_dim = model_embedding_dim(model)
            self.projection = nn.Linear(student_dim, projection_dim, device=getattr(model, "device", None))

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        if labels is None:
            raise ValueError("MSELoss needs the teacher's embeddings as labels.")
        embeddings = embed_columns(self.model, sentence_features)
        labels = labels.detach()
        if labels.dim() == 2:
            targets = [labels] * len(embeddings)
        elif labels.dim() == 3 and labels.size(1) == len(embeddings):
            targets = list(labels.unbind(dim=1))
        else:
            raise ValueError(
                f"MSELoss expects labels of shape (batch, dim) or (batch, {len(embeddings)}, dim); "
                f"got {tuple(labels.shape)}."
            )
        return self.compute_loss_from_embeddings(embeddings, targets)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], targets: list[Tensor]) -> Tensor:
        losses = []
        for student, teacher in zip(embeddings, targets):
            if self.projection is not None:
                student = self.projection(student)
            teacher = teacher.to(device=student.device, dtype=student.dtype)
            if teacher.shape != student.shape:
                raise ValueError(
                    f"Teacher embeddings have shape {tuple(teacher.shape)} but the student's are "
                    f"{tuple(student.shape)}; use a teacher with the same dimension, or projection_dim."
                )
            losses.append(nn.functional.mse_loss(student, teacher))
        return torch.stack(losses).mean()

    def get_config_dict(self) -> dict[str, Any]:
        return {} if self.projection_dim is None else {"projection_dim": self.projection_dim}

    @property
    def citation(self) -> str:
        return MSE_CITATION


class MarginMSELoss(BaseLoss):
    """MSE between the student's and the teacher's margins ``sim(q, pos) - sim(q, neg_k)``.

    Rows are (query, positive, negative_1, ...); labels are the teacher margins (one per negative)
    or the teacher scores (positive first, then each negative).
    """

    label_kind = LabelKind.SCORES
    min_text_columns = 3

    def __init__(self, model, similarity_fct: Callable = pairwise_dot_score) -> None:
        super().__init__()
        self.model = model
        self.similarity_fct = similarity_fct
        self.loss_fct = nn.MSELoss()

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        query, positive, negatives = embeddings[0], embeddings[1], embeddings[2:]
        batch_size, num_negatives = query.shape[0], len(negatives)
        if labels.shape == (batch_size, num_negatives + 1):
            labels = labels[:, :1] - labels[:, 1:]
        if labels.shape == (batch_size,):
            labels = labels.unsqueeze(1)
        if labels.shape != (batch_size, num_negatives):
            raise ValueError(
                f"Labels shape {tuple(labels.shape)} does not match {(batch_size, num_negatives)}: give per row "
                f"the {num_negatives} teacher margin(s), or the positive score followed by the negative scores."
            )
        scores_pos = self.similarity_fct(query, positive)
        margins = torch.stack([scores_pos - self.similarity_fct(query, neg) for neg in negatives], dim=1)
        return self.loss_fct(margins, labels.detach().to(margins.dtype))

    def get_config_dict(self) -> dict[str, Any]:
        return {"similarity_fct": similarity_fct_name(self.similarity_fct)}

    @property
    def citation(self) -> str:
        return MARGIN_MSE_CITATION
