"""The model card: README.md written beside a saved model, in sentence-transformers' form.

The trainer fills a `RunInfo` (datasets via `describe_dataset`, widget via `widget_examples`),
then calls `write_model_card(model_dir, info)`, which never raises for a card problem.
"""

from __future__ import annotations

import importlib
from typing import Any

_SOURCES = {
    "plot_training_curve": "sentforge.card.curve",
    "ColumnStatistics": "sentforge.card.info",
    "DatasetInfo": "sentforge.card.info",
    "EvaluatorResult": "sentforge.card.info",
    "LogRow": "sentforge.card.info",
    "LossInfo": "sentforge.card.info",
    "RunInfo": "sentforge.card.info",
    "SentenceTransformerModelCardData": "sentforge.card.info",
    "collect_framework_versions": "sentforge.card.info",
    "render_model_card": "sentforge.card.render",
    "describe_dataset": "sentforge.card.stats",
    "token_counter": "sentforge.card.stats",
    "similarity_printout": "sentforge.card.widget",
    "usage_similarities": "sentforge.card.widget",
    "widget_examples": "sentforge.card.widget",
    "load_run_info": "sentforge.card.write",
    "regenerate_model_card": "sentforge.card.write",
    "save_run_info": "sentforge.card.write",
    "write_model_card": "sentforge.card.write",
}


def __getattr__(name: str) -> Any:
    """Load each part on first use: ``card.info`` alone is imported by every model, and must stay light."""
    if name not in _SOURCES:
        raise AttributeError(f"module 'sentforge.card' has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "ColumnStatistics",
    "DatasetInfo",
    "EvaluatorResult",
    "LogRow",
    "LossInfo",
    "RunInfo",
    "SentenceTransformerModelCardData",
    "collect_framework_versions",
    "describe_dataset",
    "load_run_info",
    "plot_training_curve",
    "regenerate_model_card",
    "render_model_card",
    "save_run_info",
    "similarity_printout",
    "token_counter",
    "usage_similarities",
    "widget_examples",
    "write_model_card",
]
