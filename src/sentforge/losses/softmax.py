"""SoftmaxLoss: a linear classifier on (u, v, |u - v|) of a text pair, trained with cross-entropy
(the original SBERT NLI objective)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .base import BaseLoss, LabelKind, embed_columns

SBERT_CITATION = """
@inproceedings{reimers-2019-sentence-bert,
    title = "Sentence-BERT: Sentence Embeddings using Siamese BERT-Networks",
    author = "Reimers, Nils and Gurevych, Iryna",
    booktitle = "Proceedings of the 2019 Conference on Empirical Methods in Natural Language Processing",
    month = "11",
    year = "2019",
    publisher = "Association for Computational Linguistics",
    url = "https://arxiv.org/abs/1908.10084",
}
"""


class SoftmaxLoss(BaseLoss):
    """Cross-entropy of a classifier over the concatenated pair features; labels are class ids."""

    label_kind = LabelKind.CLASS_ID
    min_text_columns = 2
    max_text_columns = 2

    def __init__(
        self,
        model,
        embedding_dimension: int | None = None,
        num_labels: int | None = None,
        concatenation_sent_rep: bool = True,
        concatenation_sent_difference: bool = True,
        concatenation_sent_multiplication: bool = False,
        loss_fct: Callable = nn.CrossEntropyLoss(),
        *,
        sentence_embedding_dimension: int | None = None,
    ) -> None:
        super().__init__()
        embedding_dimension = embedding_dimension or sentence_embedding_dimension
        if embedding_dimension is None or num_labels is None:
            raise TypeError("SoftmaxLoss needs embedding_dimension and num_labels.")
        self.model = model
        self.num_labels = num_labels
        self.label_range = (0, num_labels - 1)
        self.concatenation_sent_rep = concatenation_sent_rep
        self.concatenation_sent_difference = concatenation_sent_difference
        self.concatenation_sent_multiplication = concatenation_sent_multiplication
        num_vectors = 2 * concatenation_sent_rep + concatenation_sent_difference + concatenation_sent_multiplication
        if num_vectors == 0:
            raise ValueError(
                "At least one of concatenation_sent_rep, concatenation_sent_difference, "
                "or concatenation_sent_multiplication must be True."
            )
        device = getattr(model, "device", None)
        self.classifier = nn.Linear(num_vectors * embedding_dimension, num_labels, device=device)
        self.loss_fct = loss_fct

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None):
        rep_a, rep_b = embed_columns(self.model, sentence_features)
        parts = []
        if self.concatenation_sent_rep:
            parts += [rep_a, rep_b]
        if self.concatenation_sent_difference:
            parts.append(torch.abs(rep_a - rep_b))
        if self.concatenation_sent_multiplication:
            parts.append(rep_a * rep_b)
        output = self.classifier(torch.cat(parts, 1).to(self.classifier.weight.dtype))
        if labels is None:
            return [rep_a, rep_b], output
        if self.num_labels == 1 or labels.shape != output.shape:
            labels = labels.view(-1)
            if labels.is_floating_point() and isinstance(self.loss_fct, nn.CrossEntropyLoss):
                labels = labels.long()  # class ids that arrived as floats
        return self.loss_fct(output, labels)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "num_labels": self.num_labels,
            "concatenation_sent_rep": self.concatenation_sent_rep,
            "concatenation_sent_difference": self.concatenation_sent_difference,
            "concatenation_sent_multiplication": self.concatenation_sent_multiplication,
        }

    @property
    def citation(self) -> str:
        return SBERT_CITATION
