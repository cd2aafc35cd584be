"""Matryoshka2dLoss (2DMSE, Li et al. 2024): AdaptiveLayerLoss around MatryoshkaLoss, so the model
can be cut both in depth (fewer layers) and in width (shorter embeddings)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from torch import nn

from .adaptive_layer import LI_2DMSE_CITATION, AdaptiveLayerLoss
from .matryoshka import MatryoshkaLoss


class Matryoshka2dLoss(AdaptiveLayerLoss):
    """``loss`` at sampled layers (``n_layers_per_step``) and sampled dimensions (``n_dims_per_step``)."""

    def __init__(
        self,
        model,
        loss: nn.Module,
        matryoshka_dims: Sequence[int],
        matryoshka_weights: Sequence[float | int] | None = None,
        n_layers_per_step: int = 1,
        n_dims_per_step: int = 1,
        last_layer_weight: float = 1.0,
        prior_layers_weight: float = 1.0,
        kl_div_weight: float = 1.0,
        kl_temperature: float = 0.3,
        layer_weighting: Literal["uniform", "log", "linear"] | Callable[[int], float] = "uniform",
    ) -> None:
        matryoshka_loss = MatryoshkaLoss(
            model, loss, matryoshka_dims, matryoshka_weights=matryoshka_weights, n_dims_per_step=n_dims_per_step
        )
        super().__init__(
            model,
            matryoshka_loss,
            n_layers_per_step=n_layers_per_step,
            last_layer_weight=last_layer_weight,
            prior_layers_weight=prior_layers_weight,
            kl_div_weight=kl_div_weight,
            kl_temperature=kl_temperature,
            layer_weighting=layer_weighting,
        )

    def get_config_dict(self) -> dict[str, Any]:
        return {**super().get_config_dict(), **self.loss.get_config_dict()}

    @property
    def citation(self) -> str:
        return LI_2DMSE_CITATION
