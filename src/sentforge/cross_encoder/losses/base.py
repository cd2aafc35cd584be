"""What the cross-encoder losses share: model checks, pair scoring and config names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ...losses.base import fullname


def check_model(loss: nn.Module, model: Any, one_label: bool = True) -> None:
    """A CrossEncoder (with one output label, for score losses): else the ValueError ST raises."""
    from ..model import CrossEncoder

    if not isinstance(model, CrossEncoder):
        raise ValueError(
            f"{type(loss).__name__} expects a model of type CrossEncoder, but got a model of type {type(model)}."
        )
    if one_label and model.num_labels != 1:
        raise ValueError(
            f"{type(loss).__name__} expects a model with 1 output label, "
            f"but got a model with {model.num_labels} output labels."
        )


def pair_scores(model: Any, first: Sequence[str], second: Sequence[str], prompt: str | None = None) -> Tensor:
    """One logit per (first[i], second[i]) pair, as a flat ``[n]`` tensor (one forward)."""
    return model.pair_logits(list(zip(first, second)), prompt=prompt).view(-1)


def chunked_pair_scores(model: Any, pairs: list[tuple[str, str]], chunk: int | None,
                        prompt: str | None = None) -> Tensor:
    """``pair_scores`` over all pairs, ``chunk`` pairs per forward (None or <= 0: one forward)."""
    if not chunk or chunk <= 0 or chunk >= len(pairs):
        return model.pair_logits(pairs, prompt=prompt).view(-1)
    return torch.cat([model.pair_logits(pairs[i : i + chunk], prompt=prompt).view(-1)
                      for i in range(0, len(pairs), chunk)])


def check_label_count(loss: nn.Module, labels: Tensor, batch_size: int) -> Tensor:
    """Labels as a flat ``[batch]`` tensor; the ValueError ST raises when the count is wrong."""
    if labels.numel() != batch_size:
        raise ValueError(
            f"{type(loss).__name__} expects {batch_size} labels (one per example), "
            f"but got {labels.numel()} labels with shape {tuple(labels.shape)}."
        )
    return labels.view(-1)


def activation_name(activation_fn: Any) -> str:
    """How an activation is named in a loss's config (``torch.nn.modules.linear.Identity``)."""
    return fullname(activation_fn)


__all__ = ["activation_name", "check_label_count", "check_model", "chunked_pair_scores", "pair_scores"]
