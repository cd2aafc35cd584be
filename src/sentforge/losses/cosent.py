"""CoSENTLoss and AnglELoss: rank the pairs of a batch by similarity in the order of their labels.

For every two pairs (i, j) with label_i > label_j the loss adds ``exp(scale * (s_j - s_i))``,
so only the order of the labels matters, not their scale: ``log(1 + sum exp(...))``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ..similarity import pairwise_cos_sim
from .base import BaseLoss, LabelKind, check_label_count, embed_columns

COSENT_CITATION = """
@article{10531646,
    author={Huang, Xiang and Peng, Hao and Zou, Dongcheng and Liu, Zhiwei and Li, Jianxin and Liu, Kay and Wu, Jia and Su, Jianlin and Yu, Philip S.},
    journal={IEEE/ACM Transactions on Audio, Speech, and Language Processing},
    title={CoSENT: Consistent Sentence Embedding via Similarity Ranking},
    year={2024},
    doi={10.1109/TASLP.2024.3402087}
}
"""

ANGLE_CITATION = """
@inproceedings{li-li-2024-aoe,
    title = "{A}o{E}: Angle-optimized Embeddings for Semantic Textual Similarity",
    author = "Li, Xianming and Li, Jing",
    year = "2024",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/2024.acl-long.101/",
    doi = "10.18653/v1/2024.acl-long.101"
}
"""


def pairwise_angle_sim(x: Tensor, y: Tensor) -> Tensor:
    """AnglE similarity ``|cos + sin|`` of row i of x and y, pairing dims k and k + D/2 for the sine."""
    x, y = x.float() if not x.is_floating_point() else x, y.float() if not y.is_floating_point() else y
    if x.shape[1] % 2:
        x = torch.nn.functional.pad(x, (0, 1))
        y = torch.nn.functional.pad(y, (0, 1))
    x = torch.nn.functional.normalize(x, p=2, dim=1)
    y = torch.nn.functional.normalize(y, p=2, dim=1)
    cosines = (x * y).sum(dim=1)
    x_re, x_im = torch.chunk(x, 2, dim=1)
    y_re, y_im = torch.chunk(y, 2, dim=1)
    sines = (x_im * y_re - x_re * y_im).sum(dim=1)
    return torch.abs(cosines + sines)


def cosent_loss(scores: Tensor, labels: Tensor) -> Tensor:
    """``log(1 + sum over label_i > label_j of exp(s_j - s_i))`` without the quadratic matrix."""
    if labels.dtype == torch.bool:
        labels = labels.int()
    labels, order = labels.sort()
    scores = scores[order]
    # For each pair j, log-sum of exp(-s_i) over the pairs i with a strictly higher label.
    first_higher = torch.searchsorted(labels, labels, right=True)
    suffix = torch.logcumsumexp(-scores.flip(0), dim=0).flip(0)
    suffix = torch.cat((suffix, scores.new_full((1,), -torch.inf)))
    terms = scores + suffix[first_higher]
    return torch.logsumexp(torch.cat((scores.new_zeros(1), terms)), dim=0)


class CoSENTLoss(BaseLoss):
    """CoSENT over (text1, text2, score) rows: any float scores, only their order is used."""

    label_kind = LabelKind.SCORE
    min_text_columns = 2
    max_text_columns = 2

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable = pairwise_cos_sim) -> None:
        super().__init__()
        self.model = model
        self.similarity_fct = similarity_fct
        self.scale = scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features), labels)

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor) -> Tensor:
        labels = check_label_count(self, labels, embeddings[0].shape[0])
        scores = self.similarity_fct(embeddings[0], embeddings[1])
        if scores.dtype in (torch.float16, torch.bfloat16):
            scores = scores.float()
        return cosent_loss(scores * self.scale, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.scale, "similarity_fct": self.similarity_fct.__name__}

    @property
    def citation(self) -> str:
        return COSENT_CITATION


class AnglELoss(CoSENTLoss):
    """CoSENT with the AnglE similarity. Also takes (anchor, positive, negative...) rows: the
    positive pairs get the label (or 1 without labels), the negative pairs ``1 - label``."""

    max_text_columns = None

    def __init__(self, model, scale: float = 20.0) -> None:
        super().__init__(model, scale, similarity_fct=pairwise_angle_sim)

    def requires_labels(self, num_text_columns: int) -> bool:
        return num_text_columns <= 2

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None) -> Tensor:
        if len(embeddings) <= 2:
            if labels is None:
                raise ValueError("AnglELoss requires labels for datasets with pairs.")
            return super().compute_loss_from_embeddings(embeddings, labels)
        anchor = embeddings[0]
        if labels is None:
            labels = torch.ones(anchor.size(0), device=anchor.device)
        labels = check_label_count(self, labels, anchor.size(0))
        num_candidates = len(embeddings) - 1
        pairs = [anchor.repeat(num_candidates, 1), torch.cat(embeddings[1:], dim=0)]
        pair_labels = torch.cat([labels, (1 - labels).repeat(num_candidates - 1)])
        return super().compute_loss_from_embeddings(pairs, pair_labels)

    @property
    def citation(self) -> str:
        return ANGLE_CITATION
