"""Which column is which: text columns in order, the label column, and what kind of task that is.

As in sentence-transformers, text columns are fed to the loss in their order and a column named
``label``/``labels``/``score``/``scores`` is the label. On top of that, the column shape gives a
task guess that ``sentforge train --loss auto`` turns into a loss and an evaluator:

======================  ==============  =====================================  =================================
columns                 task            loss                                   evaluator
======================  ==============  =====================================  =================================
(a, b)                  pairs           MultipleNegativesRankingLoss           InformationRetrievalEvaluator
(a, b, float score)     scored-pairs    CoSENTLoss (or CosineSimilarityLoss)   EmbeddingSimilarityEvaluator
(a, b, 0/1 label)       binary-pairs    ContrastiveLoss                        BinaryClassificationEvaluator
(a, p, n[, n2 ...])     triplets        MultipleNegativesRankingLoss           TripletEvaluator
======================  ==============  =====================================  =================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets
import pyarrow as pa

from sentforge.errors import SentforgeError

LABEL_COLUMN_NAMES = ("label", "labels", "score", "scores")
"""Column names treated as the label, first match wins (sentence-transformers' order)."""

IGNORED_COLUMN_NAMES = ("dataset_name",)

_TASK_CHOICES = {
    "pairs": ("MultipleNegativesRankingLoss", ("CachedMultipleNegativesRankingLoss",), "InformationRetrievalEvaluator"),
    "scored-pairs": ("CoSENTLoss", ("CosineSimilarityLoss", "AnglELoss"), "EmbeddingSimilarityEvaluator"),
    "binary-pairs": ("ContrastiveLoss", ("OnlineContrastiveLoss",), "BinaryClassificationEvaluator"),
    "triplets": ("MultipleNegativesRankingLoss", ("TripletLoss",), "TripletEvaluator"),
}


@dataclass(frozen=True)
class ColumnRoles:
    """The roles of a dataset's columns, the task they suggest, and why."""

    text_columns: tuple[str, ...]
    label_column: str | None
    task: str
    loss: str
    evaluator: str
    explanation: str
    alternative_losses: tuple[str, ...] = ()
    label_kind: str | None = None
    """None (no label), "binary" (only 0 and 1) or "continuous"."""
    label_range: tuple[float, float] | None = None
    """Smallest and largest label seen."""
    label_scale: tuple[float, float] | None = None
    """When set, labels must be mapped from this (low, high) range onto [0, 1] before training."""
    ignored_columns: tuple[str, ...] = field(default=())

    @property
    def needs_label_normalization(self) -> bool:
        return self.label_scale is not None


def infer_roles(dataset: datasets.Dataset, label_column: str | None = None) -> ColumnRoles:
    """Guess text columns, label column and task from a dataset's columns and label values."""
    columns = list(dataset.column_names)
    label = label_column if label_column is not None else find_label_column(columns)
    if label is not None and label not in columns:
        raise SentforgeError(f"Label column '{label}' not found. Columns found: {', '.join(columns)}.")
    text_columns, ignored = split_columns(dataset, label)
    unnamed_numbers = [name for name in ignored if _is_numeric(dataset, name)]
    if label is None and unnamed_numbers:
        raise SentforgeError(
            f"Column '{unnamed_numbers[0]}' holds numbers, but only a column named "
            f"{' / '.join(LABEL_COLUMN_NAMES)} is used as the label (columns found: {', '.join(columns)}). "
            "Rename it to 'score' (similarity) or 'label' (0/1), or pass it as the label column explicitly."
        )
    if len(text_columns) < 2:
        raise SentforgeError(
            f"Need at least two text columns (e.g. anchor and positive), found {len(text_columns)}: "
            f"{', '.join(text_columns) or 'none'} (columns found: {', '.join(columns)}). Add the paired "
            "texts as columns, or name the columns to use explicitly (e.g. --columns question,answer)."
        )
    if label is None:
        return _unlabelled_roles(text_columns, ignored)
    if len(text_columns) > 2:
        raise SentforgeError(
            f"Found {len(text_columns)} text columns ({', '.join(text_columns)}) and a label column "
            f"'{label}'. Labels go with (sentence1, sentence2) pairs; for triplets drop the label column, "
            "or select two text columns explicitly (e.g. --columns sentence1,sentence2)."
        )
    return _labelled_roles(dataset, text_columns, label, ignored)


def apply_column_mapping(
    dataset: datasets.Dataset, text_columns: Sequence[str] | str, label_column: str | None = None
) -> datasets.Dataset:
    """Keep only the given text columns (in that order) and the label column, renamed to ``label``.

    ``text_columns`` may be a comma-separated string as typed on the command line ("question,answer").
    """
    wanted = [name.strip() for name in text_columns.split(",")] if isinstance(text_columns, str) else list(text_columns)
    wanted = [name for name in wanted if name]
    if not wanted:
        raise SentforgeError("No text columns given. Name them in order, e.g. --columns question,answer.")
    present = list(dataset.column_names)
    missing = [name for name in wanted + ([label_column] if label_column else []) if name not in present]
    if missing:
        raise SentforgeError(f"Column(s) {', '.join(missing)} not found. Columns found: {', '.join(present)}.")
    if len(set(wanted)) != len(wanted) or label_column in wanted:
        raise SentforgeError(f"A column is named twice in {', '.join(wanted)}; name each column once.")
    selected = dataset.select_columns(wanted + ([label_column] if label_column else []))
    if label_column and label_column != "label":
        selected = selected.rename_column(label_column, "label")
    return selected


def normalize_labels(dataset: datasets.Dataset, roles: ColumnRoles) -> datasets.Dataset:
    """Map labels from ``roles.label_scale`` onto [0, 1] (e.g. STS-B 0-5 -> 0-1); no-op when not needed."""
    if roles.label_scale is None or roles.label_column is None:
        return dataset
    low, high = roles.label_scale
    column = roles.label_column

    def rescale(batch: dict) -> dict:
        batch[column] = [None if v is None else (float(v) - low) / (high - low) for v in batch[column]]
        return batch

    features = dataset.features.copy()
    features[column] = datasets.Value("float64")
    return dataset.map(rescale, batched=True, features=features, desc=None)


def find_label_column(columns: list[str]) -> str | None:
    for name in LABEL_COLUMN_NAMES:
        if name in columns:
            return name
    return None


def split_columns(dataset: datasets.Dataset, label: str | None) -> tuple[list[str], list[str]]:
    """Text columns (string-typed, in order, not id-like) and the columns that play no part."""
    texts, ignored = [], []
    for name, kind in zip(dataset.column_names, dataset.data.schema.types):
        if name == label:
            continue
        is_text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if is_text and name not in IGNORED_COLUMN_NAMES and not _looks_like_id(name):
            texts.append(name)
        else:
            ignored.append(name)
    return texts, ignored


def _looks_like_id(name: str) -> bool:
    lowered = name.lower()
    return lowered == "id" or lowered.endswith(("_id", "_ids", "_idx", "-id"))


def _is_numeric(dataset: datasets.Dataset, name: str) -> bool:
    kind = dataset.data.schema.field(name).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _unlabelled_roles(text_columns: list[str], ignored: list[str]) -> ColumnRoles:
    if len(text_columns) == 2:
        task = "pairs"
        why = (
            f"Two text columns ({', '.join(text_columns)}) and no label: each row is a positive pair, so "
            "MultipleNegativesRankingLoss trains with the other rows of the batch as negatives, and "
            "evaluation retrieves each pair's second text among all second texts."
        )
    else:
        task = "triplets"
        negatives = len(text_columns) - 2
        why = (
            f"Text columns {', '.join(text_columns)}: anchor, positive and {negatives} hard negative"
            f"{'s' if negatives > 1 else ''}, so MultipleNegativesRankingLoss uses them on top of the "
            "in-batch negatives, and TripletEvaluator checks the anchor is closer to the positive."
        )
    return _roles(task, text_columns, None, why, ignored)


def _labelled_roles(
    dataset: datasets.Dataset, text_columns: list[str], label: str, ignored: list[str]
) -> ColumnRoles:
    values = _label_values(dataset, label)
    pair = f"({', '.join(text_columns)})"
    if not values:
        raise SentforgeError(f"Label column '{label}' holds no numeric values. Fill in a number for each row.")
    low, high = min(values), max(values)
    if low == high:
        why = (
            f"Label '{label}' is {low:g} on every row, so it says nothing about the pairs {pair}: they are "
            "treated as positive pairs for MultipleNegativesRankingLoss, with retrieval evaluation."
        )
        return _roles("pairs", text_columns, None, why, ignored + [label])
    if set(values) <= {0.0, 1.0}:
        why = (
            f"Pairs {pair} with a 0/1 label '{label}': ContrastiveLoss pulls label-1 pairs together and "
            "pushes label-0 pairs apart; BinaryClassificationEvaluator reports accuracy, F1 and AP."
        )
        return _roles("binary-pairs", text_columns, label, why, ignored, "binary", (low, high))
    scale = _scale_for(low, high)
    why = (
        f"Pairs {pair} with a numeric score '{label}' (from {low:g} to {high:g}): CoSENTLoss learns to "
        "rank pairs by score; EmbeddingSimilarityEvaluator reports Spearman correlation."
    )
    if scale is not None:
        why += f" Scores lie outside [0, 1], so they are mapped from [{scale[0]:g}, {scale[1]:g}] onto [0, 1]."
    return _roles("scored-pairs", text_columns, label, why, ignored, "continuous", (low, high), scale)


def _label_values(dataset: datasets.Dataset, label: str) -> list[float]:
    kind = dataset.data.schema.field(label).type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        sample = ", ".join(repr(v) for v in dataset.unique(label)[:3]) if pa.types.is_string(kind) else str(kind)
        raise SentforgeError(
            f"Label column '{label}' holds {sample} rather than numbers. Map the classes to numbers "
            "(e.g. 1 for similar and 0 for not similar) or to a similarity score."
        )
    return [float(v) for v in dataset.unique(label) if v is not None and not math.isnan(float(v))]


def _scale_for(low: float, high: float) -> tuple[float, float] | None:
    """The range to map onto [0, 1], or None when labels already lie in [0, 1]."""
    if low >= 0.0 and high <= 1.0:
        return None
    if low >= 0.0:
        return (0.0, float(math.ceil(high)))
    return (low, high)


def _roles(
    task: str,
    text_columns: list[str],
    label: str | None,
    explanation: str,
    ignored: list[str],
    label_kind: str | None = None,
    label_range: tuple[float, float] | None = None,
    label_scale: tuple[float, float] | None = None,
) -> ColumnRoles:
    loss, alternatives, evaluator = _TASK_CHOICES[task]
    if ignored:
        explanation += f" Ignored column{'s' if len(ignored) > 1 else ''}: {', '.join(ignored)}."
    return ColumnRoles(
        text_columns=tuple(text_columns),
        label_column=label,
        task=task,
        loss=loss,
        evaluator=evaluator,
        explanation=explanation,
        alternative_losses=alternatives,
        label_kind=label_kind,
        label_range=label_range,
        label_scale=label_scale,
        ignored_columns=tuple(ignored),
    )
