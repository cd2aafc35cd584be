"""EmbedDistillLoss (Kim et al. 2023): pull each student embedding onto a precomputed teacher
embedding by cosine distance, L2 distance or MSE, optionally through a learned projection."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any, Literal

import torch
from torch import Tensor, nn

from .base import BaseLoss, LabelKind, embed_columns, model_embedding_dim

KIM_CITATION = """
@article{kim2023embeddistill,
    title={EmbedDistill: A Geometric Knowledge Distillation for Information Retrieval},
    author={Kim, Seungyeon and Rawat, Ankit Singh and Zaheer, Manzil and Jayasumana, Sadeep and Sadhanala, Veeranjaneyulu and Jitkrittum, Wittawat and Menon, Aditya Krishna and Fergus, Rob and Kumar, Sanjiv},
    year={2023},
    eprint={2301.12005},
    archivePrefix={arXiv},
    primaryClass={cs.IR}
}
"""

DISTANCE_METRICS = ("mse", "l2", "cosine")


class EmbedDistillLoss(BaseLoss):
    """Labels: teacher embeddings ``(batch, teacher_dim)`` for every column, or ``(batch, columns, teacher_dim)``."""

    label_kind = LabelKind.EMBEDDING
    min_text_columns = 1

    def __init__(
        self,
        model,
        distance_metric: Literal["mse", "l2", "cosine"] = "cosine",
        projection_dim: int | None = None,
    ) -> None:
        super().__init__()
        if distance_metric not in DISTANCE_METRICS:
            raise ValueError(f"distance_metric must be one of 'mse', 'l2', 'cosine', but got '{distance_metric}'.")
        self.model = model
        self.distance_metric = distance_metric
        self.projection_dim = projection_dim
        self.projection: nn.Linear | None = None
        if projection_dim is not None:
            self.projection = nn.Linear(model_embedding_dim(model), projection_dim, device=model.device)

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None) -> Tensor:
        if labels is None:
            raise ValueError(
                "EmbedDistillLoss requires pre-computed teacher embeddings as labels. "
                "Compute them once with the teacher and add them via `dataset.map(...)`."
            )
        embeddings = embed_columns(self.model, sentence_features)
        labels = labels.detach()
        if labels.dim() == 2:  # one teacher embedding for every column
            targets = [labels for _ in embeddings]
        elif labels.dim() == 3:
            if labels.size(1) != len(embeddings):
                raise ValueError(
                    f"Number of label columns ({labels.size(1)}) does not match number of input "
                    f"text columns ({len(embeddings)}). Either pass 3D labels with shape "
                    f"(batch_size, {len(embeddings)}, teacher_dim), or pass 2D labels of shape "
                    f"(batch_size, teacher_dim) to broadcast a single label across all columns."
                )
            targets = list(labels.unbind(dim=1))
        else:
            raise ValueError(
                f"Expected labels to be 2D (batch_size, teacher_dim) or "
                f"3D (batch_size, num_columns, teacher_dim); got {labels.dim()}D."
            )
        return self.compute_loss_from_embeddings(embeddings, targets)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], teacher_embeddings: list[Tensor]) -> Tensor:
        losses = []
        for student, teacher in zip(embeddings, teacher_embeddings):
            dtype = self.projection.weight.dtype if self.projection is not None else student.dtype
            teacher = teacher.to(device=student.device, dtype=dtype)
            if self.projection is not None:
                student = self.projection(student.to(dtype))
            if self.distance_metric == "mse":
                losses.append(nn.functional.mse_loss(student, teacher))
            elif self.distance_metric == "l2":
                losses.append(torch.norm(student - teacher, dim=-1).mean())
            else:
                losses.append((1 - nn.functional.cosine_similarity(student, teacher, dim=-1)).mean())
        return torch.stack(losses).mean()

    def save_projection(self, path: str | os.PathLike) -> None:
        """Write the projection layer to a safetensors file (to reuse it, e.g. on the student)."""
        from safetensors.torch import save_model

        if self.projection is None:
            raise ValueError(
                "No projection layer to save. Construct EmbedDistillLoss with "
                "projection_dim=<int> if you want a learnable projection."
            )
        save_model(self.projection, str(path))

    def load_projection(self, path: str | os.PathLike) -> None:
        """Load a projection saved by :meth:`save_projection` (creating the layer if there is none)."""
        from safetensors.torch import load_file

        state_dict = load_file(str(path))
        out_features, in_features = state_dict["weight"].shape
        if self.projection is None:
            student_dim = model_embedding_dim(self.model)
            if in_features != student_dim:
                raise ValueError(
                    f"Saved projection expects student embeddings of dim {in_features}, "
                    f"but the current student model outputs {student_dim}-dim embeddings."
                )
            self.projection = nn.Linear(in_features, out_features, device=self.model.device)
            self.projection_dim = out_features
        elif self.projection.in_features != in_features or self.projection.out_features != out_features:
            raise ValueError(
                f"Saved projection shape ({in_features} -> {out_features}) does not "
                f"match the configured projection shape "
                f"({self.projection.in_features} -> {self.projection.out_features})."
            )
        self.projection.load_state_dict(state_dict)

    def get_config_dict(self) -> dict[str, Any]:
        return {"distance_metric": self.distance_metric, "projection_dim": self.projection_dim}

    @property
    def citation(self) -> str:
        return KIM_CITATION
