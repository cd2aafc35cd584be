"""The model card: README.md written beside a saved model, in sentence-transformers' form.

The trainer fills a `RunInfo` (datasets via `describe_dataset`, widget via `widget_examples`),
then calls `write_model_card(model_dir, info)`, which never raises for a card problem.
"""

from sentforge.card.curve import plot_training_curve
from sentforge.card.info import (
    ColumnStatistics,
    DatasetInfo,
    EvaluatorResult,
    LogRow,
    LossInfo,
    RunInfo,
    SentenceTransformerModelCardData,
    collect_framework_versions,
)
from sentforge.card.render import render_model_card
from sentforge.card.stats import describe_dataset, token_counter
from sentforge.card.widget import similarity_printout, usage_similarities, widget_examples
from sentforge.card.write import load_run_info, regenerate_model_card, save_run_info, write_model_card

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
