"""CachedMultipleNegativesRankingLoss: MultipleNegativesRankingLoss with GradCache.

Same loss value and parameter gradients as the uncached loss, but memory bounded by
``mini_batch_size`` instead of the batch size, so much larger batches (more negatives) fit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from ..similarity import cos_sim
from .base import similarity_fct_name
from .gradcache import CachedLossMixin
from .ranking import (
    MultipleNegativesRankingLoss,
    gather_candidates,
    non_default_ranking_options,
    ranking_row_losses,
    settings_property,
)

GRADCACHE_CITATION = """
@misc{gao2021scaling,
    title={Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup},
    author={Luyu Gao and Yunyi Zhang and Jiawei Han and Jamie Callan},
    year={2021},
    eprint={2101.06983},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


class CachedMultipleNegativesRankingLoss(CachedLossMixin):
    """MultipleNegativesRankingLoss computed with GradCache; ``loss.backward()`` works as usual."""

    min_text_columns = 2
    uses_in_batch_negatives = True

    def __init__(
        self,
        model,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        gather_across_devices: bool = False,
        directions: tuple[str, ...] = ("query_to_doc",),
        partition_mode: str = "joint",
        show_progress_bar: bool = False,
        hardness_mode: str | None = None,
        hardness_strength: float = 0.0,
    ) -> None:
        super().__init__()
        if mini_batch_size < 1:
            raise ValueError("mini_batch_size must be a positive integer.")
        if mini_batch_num_tokens is not None and mini_batch_num_tokens <= 0:
            raise ValueError("mini_batch_num_tokens must be a positive integer or None.")
        self.model = model
        # The wrapped loss owns and validates the hyperparameters (as in sentence-transformers).
        self.loss = MultipleNegativesRankingLoss(
            model,
            scale=scale,
            similarity_fct=similarity_fct,
            gather_across_devices=gather_across_devices,
            directions=directions,
            partition_mode=partition_mode,
            hardness_mode=hardness_mode,
            hardness_strength=hardness_strength,
        )
        self.mini_batch_size = mini_batch_size
        self.mini_batch_num_tokens = mini_batch_num_tokens
        self.show_progress_bar = show_progress_bar

    # The hyperparameters belong to the wrapped loss; reading or setting them here reaches it.
    scale = settings_property("scale", owner="loss")
    similarity_fct = settings_property("similarity_fct", owner="loss")
    gather_across_devices = settings_property("gather_across_devices", owner="loss")
    directions = settings_property("directions", writable=False, owner="loss")
    partition_mode = settings_property("partition_mode", writable=False, owner="loss")
    hardness_mode = settings_property("hardness_mode", writable=False, owner="loss")
    hardness_strength = settings_property("hardness_strength", writable=False, owner="loss")

    @property
    def temperature(self) -> float:
        return 1.0 / self.scale

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        sentence_features = list(sentence_features)
        if len(sentence_features) < 2:
            raise ValueError(f"Expected at least 2 inputs, got {len(sentence_features)}")
        return self.forward_cached(sentence_features, labels)

    def calculate_loss(
        self, reps: list[list[Tensor]], labels: Tensor | None = None, *, with_backward: bool = False
    ) -> Tensor:
        """InfoNCE over the whole batch, scored ``mini_batch_size`` query rows at a time."""
        settings = self.loss._settings
        queries = torch.cat(reps[0])
        batch_size = queries.size(0)
        queries, docs, offset = gather_candidates(queries, [torch.cat(r) for r in reps[1:]], self.gather_across_devices)
        total = queries.new_zeros(())
        for begin in range(0, batch_size, self.mini_batch_size):
            end = min(begin + self.mini_batch_size, batch_size)
            rows = torch.arange(offset + begin, offset + end, device=queries.device)
            chunk = ranking_row_losses(queries, docs, rows, settings).sum() / batch_size
            if with_backward:
                chunk.backward()
                chunk = chunk.detach()
            total = total + chunk
        return total

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "scale": self.scale,
            "similarity_fct": similarity_fct_name(self.similarity_fct),
            "mini_batch_size": self.mini_batch_size,
            "gather_across_devices": self.gather_across_devices,
        }
        if self.mini_batch_num_tokens is not None:
            config["mini_batch_num_tokens"] = self.mini_batch_num_tokens
        return config | non_default_ranking_options(self.loss._settings)

    @property
    def citation(self) -> str:
        return GRADCACHE_CITATION


class CachedMultipleNegativesSymmetricRankingLoss(CachedMultipleNegativesRankingLoss):
    """MultipleNegativesSymmetricRankingLoss (anchor->positive and positive->anchor) with GradCache."""

    def __init__(
        self,
        model,
        scale: float = 20.0,
        similarity_fct: Callable[[Tensor, Tensor], Tensor] = cos_sim,
        mini_batch_size: int = 32,
        mini_batch_num_tokens: int | None = None,
        gather_across_devices: bool = False,
        show_progress_bar: bool = False,
    ) -> None:
        super().__init__(
            model,
            scale=scale,
            similarity_fct=similarity_fct,
            mini_batch_size=mini_batch_size,
            mini_batch_num_tokens=mini_batch_num_tokens,
            gather_across_devices=gather_across_devices,
            directions=("query_to_doc", "doc_to_query"),
            partition_mode="per_direction",
            show_progress_bar=show_progress_bar,
        )

    def get_config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "scale": self.scale,
            "similarity_fct": similarity_fct_name(self.similarity_fct),
            "mini_batch_size": self.mini_batch_size,
            "gather_across_devices": self.gather_across_devices,
        }
        if self.mini_batch_num_tokens is not None:
            config["mini_batch_num_tokens"] = self.mini_batch_num_tokens
        return config
