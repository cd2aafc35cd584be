"""Drop-in path ``sentforge.sentence_transformer`` (sentence-transformers 6's canonical home of the
SentenceTransformer API). Names and submodules load on first use, so importing it stays cheap."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SentenceTransformer": "model",
    "SentenceTransformerModelCardData": "model_card",
    "SentenceTransformerTrainer": "trainer",
    "SentenceTransformerTrainingArguments": "training_args",
}
_SUBMODULES = (
    "datasets", "evaluation", "fit_mixin", "losses", "model", "model_card", "modules", "readers", "trainer",
    "training_args",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = list(_LAZY)
