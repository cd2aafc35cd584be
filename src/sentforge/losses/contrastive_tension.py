"""Contrastive Tension (Carlsson et al. 2021): unsupervised training of two copies of the model.

``model2`` (the model you pass, and keep) and ``model1`` (a frozen-at-start copy it trains
against) embed each pair; identical sentences should score high, different ones low.
:class:`ContrastiveTensionDataLoader` makes batches with one identical pair in ``pos_neg_ratio``.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..readers import InputExample
from ..similarity import cos_sim
from .base import BaseLoss, LabelKind, similarity_fct_name

CARLSSON_CITATION = """
@inproceedings{carlsson2021semantic,
    title={Semantic Re-tuning with Contrastive Tension},
    author={Fredrik Carlsson and Amaru Cuba Gyllensten and Evangelia Gogoulou and Erik Ylip{"a}{"a} Hellqvist and Magnus Sahlgren},
    booktitle={International Conference on Learning Representations},
    year={2021},
    url={https://openreview.net/forum?id=Ov_sMNau-PF}
}
"""


def _identical_rows(features_a: dict[str, Tensor], features_b: dict[str, Tensor], like: Tensor) -> Tensor:
    """1.0 where row i of both columns holds the same tokens (padding ignored), else 0.0."""
    ids_a, ids_b = features_a["input_ids"], features_b["input_ids"]
    mask_a, mask_b = features_a.get("attention_mask"), features_b.get("attention_mask")
    if mask_a is None or mask_b is None:
        return (ids_a == ids_b).all(dim=1).float()
    same = [torch.equal(a[m], b[n]) for a, m, b, n in zip(ids_a, mask_a.bool(), ids_b, mask_b.bool())]
    return torch.as_tensor(same, device=like.device, dtype=like.dtype)


class ContrastiveTensionLoss(BaseLoss):
    """(input_A, input_B) pairs; the label (1 identical, 0 different) is read off the tokens when absent."""

    label_kind = LabelKind.BINARY
    min_text_columns = 2
    max_text_columns = 2

    def __init__(self, model) -> None:
        super().__init__()
        self.model2 = model  # the model that is kept after training
        self.model1 = copy.deepcopy(model)
        self.criterion = nn.BCEWithLogitsLoss(reduction="sum")

    def requires_labels(self, num_text_columns: int) -> bool:
        return False

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        features_1, features_2 = tuple(sentence_features)
        reps_1 = self.model1(features_1)["sentence_embedding"]
        reps_2 = self.model2(features_2)["sentence_embedding"]
        scores = torch.matmul(reps_1[:, None], reps_2[:, :, None]).squeeze(-1).squeeze(-1)  # row-wise dot
        if labels is None:
            labels = _identical_rows(features_1, features_2, like=scores)
        return self.criterion(scores, labels.view(-1).type_as(scores))

    def get_config_dict(self) -> dict[str, Any]:
        return {}

    @property
    def citation(self) -> str:
        return CARLSSON_CITATION


class ContrastiveTensionLossInBatchNegatives(BaseLoss):
    """Single inputs: each sentence, embedded by both models, must pick itself among the batch."""

    min_text_columns = 1
    uses_in_batch_negatives = True

    def __init__(self, model, scale: float = 20.0, similarity_fct: Callable = cos_sim) -> None:
        super().__init__()
        self.model2 = model  # the model that is kept after training
        self.model1 = copy.deepcopy(model)
        self.similarity_fct = similarity_fct
        self.cross_entropy_loss = nn.CrossEntropyLoss()
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(scale))

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        features = list(sentence_features)[0]
        embeddings_a = self.model1(features)["sentence_embedding"]
        embeddings_b = self.model2(features)["sentence_embedding"]
        scores = self.similarity_fct(embeddings_a, embeddings_b) * self.logit_scale.exp()
        targets = torch.arange(len(scores), dtype=torch.long, device=scores.device)
        return (self.cross_entropy_loss(scores, targets) + self.cross_entropy_loss(scores.t(), targets)) / 2

    def get_config_dict(self) -> dict[str, Any]:
        return {"scale": self.logit_scale.exp().item(), "similarity_fct": similarity_fct_name(self.similarity_fct)}

    @property
    def citation(self) -> str:
        return CARLSSON_CITATION


class ContrastiveTensionDataLoader:
    """Batches of ``InputExample`` pairs: every ``pos_neg_ratio``-th pair is a sentence with itself
    (label 1), the others two different sentences (label 0). Shuffles ``sentences`` in place."""

    def __init__(self, sentences: list[str], batch_size: int, pos_neg_ratio: int = 8) -> None:
        self.sentences = sentences
        self.batch_size = batch_size
        self.pos_neg_ratio = pos_neg_ratio
        self.collate_fn = None
        if self.batch_size % self.pos_neg_ratio != 0:
            raise ValueError(
                f"ContrastiveTensionDataLoader was loaded with a pos_neg_ratio of {pos_neg_ratio} and a batch size "
                f"of {batch_size}. The batch size must be divisible by the pos_neg_ratio"
            )

    def __iter__(self) -> Iterator[Any]:
        random.shuffle(self.sentences)
        sentences = iter(self.sentences)
        for _ in range(len(self)):
            batch = []
            for pair_idx in range(self.batch_size):
                first = next(sentences)
                label = int(pair_idx % self.pos_neg_ratio == 0)
                second = first if label else next(sentences)
                batch.append(InputExample(texts=[first, second], label=label))
            yield self.collate_fn(batch) if self.collate_fn is not None else batch

    def __len__(self) -> int:
        sentences_per_batch = 2 * self.batch_size - self.batch_size // self.pos_neg_ratio
        return len(self.sentences) // sentences_per_batch
