"""GlobalOrthogonalRegularizationLoss (Zhang et al. 2017): spread a column's embeddings out.

For each text column, over all pairs of distinct rows: the squared mean similarity (should be
~0) and the excess of the mean squared similarity over ``1 / dim`` (that of random directions).
Returns a dict of the weighted terms, to add to another loss or train on alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import torch
from torch import Tensor

from ..similarity import cos_sim
from .base import BaseLoss, embed_columns

ZHANG_CITATION = """
@misc{zhang2017learningspreadoutlocalfeature,
      title={Learning Spread-out Local Feature Descriptors},
      author={Xu Zhang and Felix X. Yu and Sanjiv Kumar and Shih-Fu Chang},
      year={2017},
      eprint={1708.06320},
      archivePrefix={arXiv},
      primaryClass={cs.CV},
      url={https://arxiv.org/abs/1708.06320},
}
"""


class GlobalOrthogonalRegularizationLoss(BaseLoss):
    """Any text columns, no labels; returns ``{"gor_mean": ..., "gor_second_moment": ...}``."""

    min_text_columns = 1

    def __init__(
        self,
        model,
        similarity_fct: Callable = cos_sim,
        mean_weight: float | None = 1.0,
        second_moment_weight: float | None = 1.0,
        aggregation: Literal["mean", "sum"] = "mean",
    ) -> None:
        super().__init__()
        self.model = model
        self.similarity_fct = similarity_fct
        self.mean_weight = mean_weight
        self.second_moment_weight = second_moment_weight
        if not mean_weight and not second_moment_weight:
            raise ValueError("At least one of mean_weight or second_moment_weight must be non-zero")
        if aggregation not in ["mean", "sum"]:
            raise ValueError(f"aggregation must be 'mean' or 'sum', got '{aggregation}'")
        self.aggregation = aggregation

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        return self.compute_loss_from_embeddings(embed_columns(self.model, sentence_features))

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> dict[str, Tensor]:
        mean_terms, second_moment_terms = zip(*[self.compute_gor(embedding) for embedding in embeddings])
        results = {}
        if self.mean_weight:
            results["gor_mean"] = self.mean_weight * self._aggregate(mean_terms)
        if self.second_moment_weight:
            results["gor_second_moment"] = self.second_moment_weight * self._aggregate(second_moment_terms)
        return results

    def _aggregate(self, terms: tuple[Tensor, ...]) -> Tensor:
        stacked = torch.stack(terms)
        return stacked.sum() if self.aggregation == "sum" else stacked.mean()

    def compute_gor(self, embeddings: Tensor) -> tuple[Tensor, Tensor]:
        """(mean term, second-moment term) of one column's ``(batch, dim)`` embeddings."""
        batch_size, hidden_dim = embeddings.shape[0], embeddings.shape[1]
        similarities = self.similarity_fct(embeddings, embeddings)
        similarities.fill_diagonal_(0.0)
        pairs = max(batch_size * (batch_size - 1), 1)  # a batch of one gives 0, not NaN
        mean_term = (similarities.sum() / pairs).pow(2)
        second_moment = similarities.pow(2).sum() / pairs
        return mean_term, torch.relu(second_moment - 1.0 / hidden_dim)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "similarity_fct": self.similarity_fct.__name__,
            "mean_weight": self.mean_weight,
            "second_moment_weight": self.second_moment_weight,
            "aggregation": self.aggregation,
        }

    @property
    def citation(self) -> str:
        return ZHANG_CITATION
