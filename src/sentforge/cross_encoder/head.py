"""The classification head a CrossEncoder puts on its encoder, as a ``learning_rate_mapping`` pattern.

A reranker started from an embedding model gets a new head (the classifier, and the pooler where the
architecture has one); it learns from nothing, so it is given a larger learning rate than the
pretrained encoder under it.
"""

from __future__ import annotations

import re

from torch import nn


def head_module_names(model: nn.Module) -> list[str]:
    """Names of the head's modules inside a transformers sequence-classification model:
    everything outside the base model, plus the base model's pooler."""
    prefix = getattr(model, "base_model_prefix", "")
    names: set[str] = set()
    for name, _ in model.named_parameters():
        parts = name.split(".")
        if not prefix or parts[0] != prefix:
            names.add(parts[0])
        elif len(parts) > 2 and parts[1] == "pooler":
            names.add(f"{prefix}.pooler")
    return sorted(names)


def head_parameter_pattern(cross_encoder: nn.Module) -> str:
    """A regex for ``learning_rate_mapping`` that matches the head's weights and nothing else,
    as the trainer names them (through the loss and the CrossEncoder wrapper)."""
    inner = getattr(cross_encoder, "model", cross_encoder)
    names = head_module_names(inner)
    if not names:
        raise ValueError(f"{type(inner).__name__} has no classification head outside its encoder.")
    return r"(?:^|\.)(?:" + "|".join(re.escape(name) for name in names) + r")\."
