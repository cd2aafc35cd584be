"""RankNetLoss (Burges et al. 2005): LambdaLoss with every pair weighing the same."""

from __future__ import annotations

from typing import Literal

from torch import nn

from .lambda_loss import LambdaLoss, NoWeightingScheme


class RankNetLoss(LambdaLoss):
    """Pairwise logistic loss over (query, [documents], [labels]) rows."""

    def __init__(self, model, k: int | None = None, sigma: float = 1.0, eps: float = 1e-10,
                 reduction_log: Literal["natural", "binary"] = "binary",
                 activation_fn: nn.Module | None = nn.Identity(), mini_batch_size: int | None = None) -> None:
        super().__init__(model=model, weighting_scheme=NoWeightingScheme(), k=k, sigma=sigma, eps=eps,
                         reduction_log=reduction_log, activation_fn=activation_fn, mini_batch_size=mini_batch_size)

    def get_config_dict(self) -> dict:
        config = super().get_config_dict()
        del config["weighting_scheme"]
        return config

    @property
    def citation(self) -> str:
        return """
@inproceedings{burges2005learning,
  title={Learning to Rank using Gradient Descent},
  author={Burges, Chris and Shaked, Tal and Renshaw, Erin and Lazier, Ari and Deeds, Matt and Hamilton, Nicole
          and Hullender, Greg},
  booktitle={Proceedings of the 22nd international conference on Machine learning},
  pages={89--96},
  year={2005}
}
"""
