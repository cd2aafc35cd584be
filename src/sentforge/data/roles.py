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

from collections.abc import Sequence
from dataclasses import dataclass, field

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .label_scale import LabelScale, infer_label_scale
from .metadata_columns import (
    IGNORED_COLUMN_NAMES,
    extra_column_reason,
    looks_like_id_name,
    metadata_reason,
    mostly_among,
)
from ..errors import SentforgeError

LABEL_COLUMN_NAMES = ("label", "labels", "score", "scores")
"""Column names treated as the label, first match wins (sentence-transformers' order)."""

SHAPE_SAMPLE_ROWS = 20_000
"""Rows read to tell metadata columns from texts."""

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
    ignored_reasons: tuple[tuple[str, str], ...] = field(default=())
    """(column, why it is not used) for each ignored column."""
    scale: LabelScale | None = None
    """The score scale found, with the rows whose labels lie outside it."""
    label_source: str | None = None
    """The label column's name in the file, when it was renamed ``label``."""

    @property
    def needs_label_normalization(self) -> bool:
        return self.label_scale is not None

    def columns_note(self, label_name: str | None = None) -> str:
        """One line: the columns used and the ones ignored, with why."""
        return columns_note(self.text_columns, label_name or self.label_column, self.ignored_reasons)


def columns_note(
    text_columns: Sequence[str], label: str | None, ignored_reasons: Sequence[tuple[str, str]]
) -> str:
    """``Columns: texts a, b; label score. Ignored: source (metadata: ...).``"""
    used = ", ".join(text_columns) + (f"; label {label}" if label else "")
    if not ignored_reasons:
        return f"Columns: texts {used}."
    ignored = "; ".join(f"{name} ({why})" for name, why in ignored_reasons)
    return f"Columns: texts {used}. Ignored: {ignored}. Pick columns exactly with --columns."


def infer_roles(dataset: datasets.Dataset, label_column: str | None = None) -> ColumnRoles:
    """Guess text columns, label column and task from a dataset's columns and label values."""
    columns = list(dataset.column_names)
    label = label_column if label_column is not None else find_label_column(columns)
    if label is not None and label not in columns:
        raise SentforgeError(f"Label column '{label}' not found. Columns found: {', '.join(columns)}.")
    text_columns, reasons = classify_columns(dataset, label)
    if label is None:
        label = unnamed_label_column(dataset, reasons)
        if label is not None:
            reasons.pop(label)
    unnamed_numbers = [name for name in reasons if _is_numeric(dataset, name) and not looks_like_id_name(name)]
    if label is None and unnamed_numbers:
        raise SentforgeError(
            f"Columns {', '.join(repr(n) for n in unnamed_numbers)} hold numbers, but none is named "
            f"{' / '.join(LABEL_COLUMN_NAMES)}, so the label is unclear (columns found: {', '.join(columns)}). "
            "Rename the label column to 'score' (similarity) or 'label' (0/1), or name the columns with "
            "--columns text1,text2,label."
        )
    if len(text_columns) < 2:
        raise SentforgeError(
            f"Need at least two text columns (e.g. anchor and positive), found {len(text_columns)}: "
            f"{', '.join(text_columns) or 'none'} (columns found: {', '.join(columns)}"
            f"{_reasons_text(reasons)}). Add the paired texts as columns, or name the columns to use "
            "explicitly (e.g. --columns question,answer)."
        )
    if label is None:
        return _unlabelled_roles(text_columns, reasons)
    if len(text_columns) > 2:
        raise SentforgeError(
            f"Found {len(text_columns)} text columns ({', '.join(text_columns)}) and a label column "
            f"'{label}'. Labels go with (sentence1, sentence2) pairs; for triplets drop the label column, "
            "or select two text columns explicitly (e.g. --columns sentence1,sentence2)."
        )
    return _labelled_roles(dataset, text_columns, label, reasons)


def _reasons_text(reasons: dict[str, str]) -> str:
    return "".join(f"; '{name}' {why}" for name, why in reasons.items())


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
    """Text columns (string-typed, in order, not metadata) and the columns that play no part."""
    texts, reasons = classify_columns(dataset, label)
    return texts, list(reasons)


def classify_columns(dataset: datasets.Dataset, label: str | None) -> tuple[list[str], dict[str, str]]:
    """Text columns in order, and each other column with why it is not a text.

    Metadata-like string columns are set aside only while two text columns remain: a pair file
    whose second text takes few values (job titles, say) still trains on it.
    """
    texts, reasons, metadata = [], {}, {}
    sample = dataset.select(range(min(len(dataset), SHAPE_SAMPLE_ROWS))) if len(dataset) else dataset
    for name, kind in zip(dataset.column_names, dataset.data.schema.types):
        if name == label:
            continue
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            reasons[name] = _non_text_reason(kind)
            continue
        why = metadata_reason(name, sample[name])
        if why is None:
            texts.append(name)
        else:
            metadata[name] = why
    for name, why in metadata.items():
        if len(texts) < 2 and not looks_like_id_name(name) and name not in IGNORED_COLUMN_NAMES:
            texts.append(name)  # too few texts without it: keep it, in file order below
    text_values = {value for name in texts for value in sample[name] if value}
    for name, why in metadata.items():
        if name in texts:
            continue
        if not looks_like_id_name(name) and name not in IGNORED_COLUMN_NAMES and mostly_among(sample[name], text_values):
            texts.append(name)  # its values are texts of the other columns: hard negatives, say
        else:
            reasons[name] = f"metadata: {why}"
    order = {name: i for i, name in enumerate(dataset.column_names)}
    texts = sorted(texts, key=order.__getitem__)
    if len(texts) > 2:
        first_two = {value for name in texts[:2] for value in sample[name] if value}
        for name in texts[2:]:
            why = extra_column_reason(sample[name], first_two)
            if why is not None:
                texts.remove(name)
                reasons[name] = f"metadata: {why}"
    return texts, reasons


def _non_text_reason(kind: pa.DataType) -> str:
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        return "holds numbers, and is not the label"
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return "holds lists, not texts"
    return f"holds {kind}, not texts"


def unnamed_label_column(dataset: datasets.Dataset, reasons: dict[str, str]) -> str | None:
    """The one numeric, non-id column of a file without a label/score column (MRPC's Quality), else None."""
    numeric = [name for name in reasons if _is_numeric(dataset, name) and not looks_like_id_name(name)]
    return numeric[0] if len(numeric) == 1 else None


def _is_numeric(dataset: datasets.Dataset, name: str) -> bool:
    kind = dataset.data.schema.field(name).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind)


def _unlabelled_roles(text_columns: list[str], ignored: dict[str, str]) -> ColumnRoles:
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
    dataset: datasets.Dataset, text_columns: list[str], label: str, ignored: dict[str, str]
) -> ColumnRoles:
    labels = label_array(dataset, label)
    finite = labels[np.isfinite(labels)]
    pair = f"({', '.join(text_columns)})"
    if not len(finite):
        raise SentforgeError(f"Label column '{label}' holds no finite numbers. Fill in a number for each row.")
    values = set(np.unique(finite).tolist())
    low, high = min(values), max(values)
    if low == high:
        why = (
            f"Label '{label}' is {low:g} on every row, so it says nothing about the pairs {pair}: they are "
            "treated as positive pairs for MultipleNegativesRankingLoss, with retrieval evaluation."
        )
        return _roles("pairs", text_columns, None, why, {**ignored, label: f"is {low:g} on every row"})
    if values <= {0.0, 1.0}:
        why = (
            f"Pairs {pair} with a 0/1 label '{label}': ContrastiveLoss pulls label-1 pairs together and "
            "pushes label-0 pairs apart; BinaryClassificationEvaluator reports accuracy, F1 and AP."
        )
        return _roles("binary-pairs", text_columns, label, why, ignored, "binary", (low, high))
    scale = infer_label_scale(labels)
    why = (
        f"Pairs {pair} with a numeric score '{label}' (on {scale.describe()}): CoSENTLoss learns to "
        "rank pairs by score; EmbeddingSimilarityEvaluator reports Spearman correlation."
    )
    mapped = None if scale.is_unit else (scale.low, scale.high)
    return _roles(
        "scored-pairs", text_columns, label, why, ignored, "continuous", (low, high), mapped, scale
    )


def label_array(dataset: datasets.Dataset, label: str) -> np.ndarray:
    """The label column as floats (missing -> NaN); a clear error when it does not hold numbers."""
    kind = dataset.data.schema.field(label).type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)):
        sample = ", ".join(repr(v) for v in dataset.unique(label)[:3]) if pa.types.is_string(kind) else str(kind)
        raise SentforgeError(
            f"Label column '{label}' holds {sample} rather than numbers. Map the classes to numbers "
            "(e.g. 1 for similar and 0 for not similar) or to a similarity score."
        )
    column = pc.cast(dataset.data.column(label), pa.float64())
    return column.to_numpy(zero_copy_only=False).astype(float)


def _roles(
    task: str,
    text_columns: list[str],
    label: str | None,
    explanation: str,
    ignored: dict[str, str],
    label_kind: str | None = None,
    label_range: tuple[float, float] | None = None,
    label_scale: tuple[float, float] | None = None,
    scale: LabelScale | None = None,
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
        ignored_reasons=tuple(ignored.items()),
        scale=scale,
    )
