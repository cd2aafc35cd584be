"""LambdaLoss (Wang et al. 2018) and its weighting schemes: pairwise logistic losses weighted by nDCG.

Same definitions, defaults and masking as sentence-transformers' LambdaLoss.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

from ...losses.base import fullname
from .base import check_model
from .listwise import score_lists


class BaseWeightingScheme(nn.Module):
    """Weights of each (i, j) pair of a ranking from gains and discounts."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        raise NotImplementedError


class NoWeightingScheme(BaseWeightingScheme):
    """Every pair weighs 1: RankNet."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return torch.tensor(1.0, device=gain.device)


class NDCGLoss1Scheme(BaseWeightingScheme):
    """Gain over discount of the first item of the pair."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return (gain / discount)[:, :, None]


class NDCGLoss2Scheme(BaseWeightingScheme):
    """|1/D(|i-j|) - 1/D(|i-j|+1)| times the gain difference."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        positions = torch.arange(1, gain.shape[1] + 1, device=gain.device)
        deltas_index = torch.abs(positions[:, None] - positions[None, :])
        deltas = torch.abs(
            torch.pow(torch.abs(discount[0, deltas_index - 1]), -1.0)
            - torch.pow(torch.abs(discount[0, deltas_index]), -1.0)
        )
        deltas.diagonal().zero_()
        return deltas[None, :, :] * torch.abs(gain[:, :, None] - gain[:, None, :])


class LambdaRankScheme(BaseWeightingScheme):
    """|1/D(i) - 1/D(j)| times the gain difference (LambdaRank's delta nDCG)."""

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return torch.abs(torch.pow(discount[:, :, None], -1.0) - torch.pow(discount[:, None, :], -1.0)) * torch.abs(
            gain[:, :, None] - gain[:, None, :]
        )


class NDCGLoss2PPScheme(BaseWeightingScheme):
    """``mu`` times NDCGLoss2 plus LambdaRank (the default)."""

    def __init__(self, mu: float = 10.0) -> None:
        super().__init__()
        self.mu = mu
        self.ndcg_loss2 = NDCGLoss2Scheme()
        self.lambda_rank = LambdaRankScheme()

    def forward(self, gain: Tensor, discount: Tensor, true_sorted: Tensor) -> Tensor:
        return self.mu * self.ndcg_loss2(gain, discount, true_sorted) + self.lambda_rank(gain, discount, true_sorted)


class LambdaLoss(nn.Module):
    """Listwise loss on (query, [documents], [relevance labels]) rows; num_labels must be 1."""

    def __init__(self, model, weighting_scheme: BaseWeightingScheme | None = NDCGLoss2PPScheme(), k: int | None = None,
                 sigma: float = 1.0, eps: float = 1e-10, reduction_log: Literal["natural", "binary"] = "binary",
                 activation_fn: nn.Module | None = nn.Identity(), mini_batch_size: int | None = None) -> None:
        super().__init__()
        self.model = model
        self.weighting_scheme = weighting_scheme or NoWeightingScheme()
        self.k = k
        self.sigma = sigma
        self.eps = eps
        self.reduction_log = reduction_log
        self.activation_fn = activation_fn or nn.Identity()
        self.mini_batch_size = mini_batch_size
        check_model(self, model)

    def forward(self, inputs: list, labels: list[Tensor], prompt: str | None = None,
                task: str | None = None) -> Tensor:
        scored = score_lists(self, inputs, labels, prompt)
        logits = scored.matrix(scored.logits, -1e16)
        true = scored.matrix(scored.labels, float("-inf"))
        max_docs = logits.shape[1]
        device = logits.device
        logits_sorted, predicted_order = logits.sort(descending=True, dim=-1)
        true_sorted, _ = true.sort(descending=True, dim=-1)
        true_by_prediction = torch.gather(true, dim=1, index=predicted_order)
        true_diffs = true_by_prediction[:, :, None] - true_by_prediction[:, None, :]
        pairs_mask = torch.isfinite(true_diffs)
        if not isinstance(self.weighting_scheme, NDCGLoss1Scheme):
            pairs_mask = pairs_mask & (true_diffs > 0)
        k = self.k or max_docs
        at_k_mask = torch.zeros((max_docs, max_docs), dtype=torch.bool, device=device)
        at_k_mask[:k, :] = 1
        at_k_mask[:, :k] = 1
        true_by_prediction.clamp_(min=0.0)
        true_sorted.clamp_(min=0.0)
        positions = torch.arange(1, max_docs + 1, device=device)
        discount = torch.log2(1.0 + positions.float())[None, :]
        max_dcg = torch.sum(((torch.pow(2, true_sorted) - 1) / discount)[:, :k], dim=-1).clamp(min=self.eps)
        gain = (torch.pow(2, true_by_prediction) - 1) / max_dcg[:, None]
        weights = self.weighting_scheme(gain, discount, true_by_prediction)
        score_diffs = (logits_sorted[:, :, None] - logits_sorted[:, None, :]).clamp(min=-1e8, max=1e8)
        score_diffs.masked_fill_(torch.isnan(score_diffs), 0.0)
        losses = weights * nn.functional.logsigmoid(self.sigma * score_diffs)
        if self.reduction_log == "binary":
            losses = losses / math.log(2)
        masked = losses[pairs_mask & at_k_mask]
        return -masked.sum() / max(masked.numel(), 1)

    def get_config_dict(self) -> dict:
        return {
            "weighting_scheme": fullname(self.weighting_scheme),
            "k": self.k,
            "sigma": self.sigma,
            "eps": self.eps,
            "reduction_log": self.reduction_log,
            "activation_fn": fullname(self.activation_fn),
            "mini_batch_size": self.mini_batch_size,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{wang2018lambdaloss,
  title={The lambdaloss framework for ranking metric optimization},
  author={Wang, Xuanhui and Li, Cheng and Golbandi, Nadav and Bendersky, Michael and Najork, Marc},
  booktitle={Proceedings of the 27th ACM international conference on information and knowledge management},
  pages={1313--1322},
  year={2018}
}
"""
