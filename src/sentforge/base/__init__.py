"""Drop-in path ``sentforge.base`` (sentence-transformers 6's shared base: samplers, evaluators, losses,
modules). Names and submodules load on first use, so importing it stays cheap."""

from __future__ import annotations

import importlib
from typing import Any

_SAMPLER_NAMES = (
    "BatchSamplers", "DefaultBatchSampler", "GroupByLabelBatchSampler", "MultiDatasetBatchSamplers",
    "MultiDatasetDefaultBatchSampler", "NoDuplicatesBatchSampler", "ProportionalBatchSampler",
    "RoundRobinBatchSampler",
)
_SUBMODULES = ("evaluation", "losses", "modules", "sampler")


def __getattr__(name: str) -> Any:
    if name in _SAMPLER_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.sampler"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SAMPLER_NAMES) | set(_SUBMODULES))


__all__ = list(_SAMPLER_NAMES)
