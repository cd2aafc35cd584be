"""PListMLELoss (Lan et al. 2014): position-aware Plackett-Luce likelihood of the labelled order."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ...losses.base import fullname
from .listwise import score_lists


class PListMLELambdaWeight(nn.Module):
    """Weight of each rank: ``2^(n - rank) - 1`` by default, or ``rank_discount_fn(mask)``."""

    def __init__(self, rank_discount_fn=None) -> None:
        super().__init__()
        self.rank_discount_fn = rank_discount_fn

    def forward(self, mask: Tensor) -> Tensor:
        if self.rank_discount_fn is not None:
            return self.rank_discount_fn(mask)
        num_docs = mask.sum(dim=1, keepdim=True)
        ranks = torch.arange(1, mask.size(1) + 1, device=mask.device).expand_as(mask)
        scale = (num_docs - 127).clamp_min(0)  # keep each row's sum below 2^127, normalised weights unchanged
        weights = torch.pow(2.0, num_docs - ranks - scale) - torch.pow(2.0, -scale)
        return weights * mask


class PListMLELoss(nn.Module):
    """Negative Plackett-Luce log-likelihood of the documents in label (or input) order, rank-weighted."""

    def __init__(self, model, lambda_weight: PListMLELambdaWeight | None = PListMLELambdaWeight(),
                 activation_fn: nn.Module | None = nn.Identity(), mini_batch_size: int | None = None,
                 respect_input_order: bool = True) -> None:
        super().__init__()
        self.model = model
        self.lambda_weight = lambda_weight
        self.activation_fn = activation_fn or nn.Identity()
        self.mini_batch_size = mini_batch_size
        self.respect_input_order = respect_input_order
        self.eps = 1e-10
        if model.num_labels != 1:
            raise ValueError(
                f"{type(self).__name__} supports a model with 1 output label, "
                f"but got a model with {model.num_labels} output labels."
            )

    def forward(self, inputs: list, labels: list[Tensor], prompt: str | None = None,
                task: str | None = None) -> Tensor:
        scored = score_lists(self, inputs, labels, prompt)
        device = scored.logits.device
        logits = scored.matrix(scored.logits, 1e-16)
        mask = scored.matrix(torch.ones_like(scored.logits, dtype=torch.bool), False)
        true = scored.matrix(scored.labels, -float("inf"))
        if not torch.any(mask):
            return torch.tensor(0.0, device=device, requires_grad=True)
        if self.respect_input_order:
            sorted_logits, sorted_mask = logits, mask
        else:
            _, order = true.sort(descending=True, dim=1)
            sorted_logits, sorted_mask = torch.gather(logits, 1, order), torch.gather(mask, 1, order)
        scores = sorted_logits.masked_fill(~sorted_mask, torch.finfo(sorted_logits.dtype).min)
        log_normalizers = torch.flip(torch.logcumsumexp(torch.flip(scores, [1]), dim=1), [1])
        log_probs = sorted_logits - log_normalizers
        if self.lambda_weight is not None:
            weight = self.lambda_weight(mask)
            log_probs = log_probs * (weight / (weight.sum(dim=1, keepdim=True) + self.eps))
        log_probs[~sorted_mask] = 0.0
        per_query = -torch.sum(log_probs, dim=1)
        if not torch.any(per_query):
            return torch.tensor(0.0, device=device, requires_grad=True)
        return torch.mean(per_query)

    def get_config_dict(self) -> dict:
        return {
            "lambda_weight": None if self.lambda_weight is None else fullname(self.lambda_weight),
            "activation_fn": fullname(self.activation_fn),
            "mini_batch_size": self.mini_batch_size,
            "respect_input_order": self.respect_input_order,
        }

    @property
    def citation(self) -> str:
        return """
@inproceedings{lan2014position,
  title={Position-Aware ListMLE: A Sequential Learning Process for Ranking.},
  author={Lan, Yanyan and Zhu, Yadong and Guo, Jiafeng and Niu, Shuzi and Cheng, Xueqi},
  booktitle={UAI},
  volume={14},
  pages={449--458},
  year={2014}
}
"""
