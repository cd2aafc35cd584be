"""Check a dataset against what its loss needs, before any training step runs.

Every problem raises :class:`~sentforge.errors.SentforgeError` saying what is wrong and how to
fix it: no label column, labels of the wrong kind or outside the loss's range, NaN labels, too
few or too many text columns, or too few rows for a loss that takes negatives from the batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np
from torch import Tensor

from ..data.roles import LABEL_COLUMN_NAMES
from ..errors import SentforgeError
from .base import LabelKind, model_embedding_dim


def validate_loss_inputs(
    loss: Any,
    column_names: Sequence[str],
    labels: Sequence | Tensor | np.ndarray | None,
    batch_size: int,
    *,
    num_rows: int | None = None,
) -> None:
    """Raise SentforgeError if data with these columns and labels cannot train ``loss``.

    ``column_names`` are the dataset's columns in order; a column named label/labels/score/scores
    is the label column and does not count as text. ``labels`` are that column's values (None if
    there is none). ``num_rows`` defaults to the number of labels. Losses that do not declare
    their needs (plain ``nn.Module``) only get the NaN check.
    """
    name = type(loss).__name__
    label = next((name for name in LABEL_COLUMN_NAMES if name in column_names), None)
    text_columns = [c for c in column_names if c != label]
    if labels is not None:
        labels = _as_list(labels)
        if num_rows is not None and num_rows != len(labels):
            raise SentforgeError(f"{len(labels)} labels for {num_rows} rows: give exactly one label per row.")
        num_rows = len(labels)
    _check_text_columns(loss, name, text_columns)
    label_kind = getattr(loss, "label_kind", None)
    requires = getattr(loss, "requires_labels", None)
    needs_labels = requires(len(text_columns)) if callable(requires) else False
    if labels is None and needs_labels:
        raise SentforgeError(
            f"{name} needs a label column ({_describe(loss)}), but the data has none "
            f"(columns: {', '.join(column_names) or 'none'}). Add a column named 'label' or 'score', "
            f"or pick a loss that trains on unlabeled {'pairs' if len(text_columns) == 2 else 'rows'}, "
            "such as MultipleNegativesRankingLoss."
        )
    if labels is not None:
        # Labels a loss does not use are still collated into a tensor: screen them too.
        _check_labels(loss, name, labels, label_kind if needs_labels else None, len(text_columns))
    if getattr(loss, "uses_in_batch_negatives", False) and num_rows is not None:
        _check_in_batch_rows(name, num_rows, batch_size, len(text_columns))


def _as_list(labels) -> list:
    if isinstance(labels, Tensor):
        return labels.detach().cpu().tolist()
    if isinstance(labels, np.ndarray):
        return labels.tolist()
    return list(labels)


def _describe(loss: Any) -> str:
    kind = getattr(loss, "label_kind", None)
    low_high = getattr(loss, "label_range", None)
    text = {
        LabelKind.SCORE: "a float score per row",
        LabelKind.SCORES: "a teacher margin (or list of scores) per row",
        LabelKind.BINARY: "0 or 1 per row",
        LabelKind.CLASS_ID: "an integer class id per row",
        LabelKind.EMBEDDING: "a teacher embedding per row",
    }.get(kind, "a label per row")
    return f"{text} in [{low_high[0]}, {low_high[1]}]" if low_high else text


def _check_text_columns(loss: Any, name: str, text_columns: list[str]) -> None:
    low = getattr(loss, "min_text_columns", 1)
    high = getattr(loss, "max_text_columns", None)
    shown = ", ".join(text_columns) or "none"
    if len(text_columns) < low:
        raise SentforgeError(
            f"{name} needs at least {low} text column(s) but the data has {len(text_columns)} ({shown}). "
            f"Add the missing column(s), e.g. {'(anchor, positive)' if low == 2 else '(anchor, positive, negative)'} "
            "in that order, or choose a loss for this data shape."
        )
    if high is not None and len(text_columns) > high:
        raise SentforgeError(
            f"{name} uses exactly {high} text column(s) but the data has {len(text_columns)} ({shown}); "
            "the extra columns would be silently ignored. Remove them (keep the first "
            f"{high} in order), or choose a loss that uses them, e.g. MultipleNegativesRankingLoss for hard negatives."
        )


def _check_labels(loss: Any, name: str, labels: list, kind: LabelKind | None, num_text: int) -> None:
    """Type, NaN and range checks of the label values for the loss's label kind."""
    vectors = kind in (None, LabelKind.EMBEDDING, LabelKind.SCORES)
    for row, value in enumerate(labels):
        if value is None or isinstance(value, str) or (not vectors and not _is_number(value)):
            raise SentforgeError(
                f"Label of row {row} is {value!r}, but {name} needs {_describe(loss)}. "
                "Fill in or drop rows without a label and convert text labels to numbers."
            )
    if kind is LabelKind.EMBEDDING:
        values = _check_vectors(loss, name, labels)
    elif kind is LabelKind.SCORES:
        values = _check_scores(name, labels, num_text)
    elif kind is None:
        try:
            values = np.asarray(labels, dtype=float)
        except (TypeError, ValueError):
            return  # ragged values: nothing more to check for a loss that declares nothing
    else:
        values = np.asarray(labels, dtype=float)
    bad = np.flatnonzero(~np.isfinite(values).reshape(len(labels), -1).all(axis=1))
    if len(bad):
        raise SentforgeError(
            f"{name}: {len(bad)} label(s) are NaN or infinite (first at row {int(bad[0])}). "
            "Drop those rows or fill in their labels before training."
        )
    if kind is LabelKind.BINARY:
        wrong = np.flatnonzero((values != 0) & (values != 1))
        if len(wrong):
            raise SentforgeError(
                f"{name} needs labels 0 (dissimilar) or 1 (similar), but row {int(wrong[0])} has "
                f"{labels[wrong[0]]!r} ({len(wrong)} such rows). Map your labels to 0/1, or use "
                "CosineSimilarityLoss or CoSENTLoss for graded similarity scores."
            )
    if kind is LabelKind.CLASS_ID:
        wrong = np.flatnonzero(values != np.round(values))
        if len(wrong):
            raise SentforgeError(
                f"{name} needs integer class ids, but row {int(wrong[0])} has {labels[wrong[0]]!r}. "
                "Map each class to 0, 1, 2, ..."
            )
    low_high = getattr(loss, "label_range", None)
    if low_high is not None and kind in (LabelKind.SCORE, LabelKind.CLASS_ID):
        low, high = low_high
        wrong = np.flatnonzero((values < low) | (values > high))
        if len(wrong):
            hint = (
                f" If your scores run from 0 to {values.max():g}, divide them by {values.max():g}."
                if kind is LabelKind.SCORE and values.max() > high and values.min() >= 0
                else ""
            )
            raise SentforgeError(
                f"{name} needs labels in [{low}, {high}], but row {int(wrong[0])} has {labels[wrong[0]]!r} "
                f"({len(wrong)} rows outside the range, min {values.min():g}, max {values.max():g}).{hint}"
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, (Number, np.number, bool, np.bool_))


def _check_vectors(loss: Any, name: str, labels: list) -> np.ndarray:
    try:
        values = np.asarray(labels, dtype=float)
    except (TypeError, ValueError):
        values = None
    if values is None or values.ndim not in (2, 3):
        raise SentforgeError(
            f"{name} needs a teacher embedding (a list of numbers, the same length in every row) as "
            "label, but the labels are not such vectors. Compute them with the teacher's encode()."
        )
    expected = getattr(loss, "projection_dim", None) or model_embedding_dim(getattr(loss, "model", None))
    if expected is not None and values.shape[-1] != expected and not _is_matryoshka(loss):
        raise SentforgeError(
            f"The teacher embeddings have {values.shape[-1]} dimensions but the model outputs {expected}. "
            f"Use a teacher with {expected}-dimensional embeddings, or MSELoss(model, projection_dim="
            f"{values.shape[-1]})."
        )
    return values


def _is_matryoshka(loss: Any) -> bool:
    return hasattr(loss, "matryoshka_dims")


def _check_scores(name: str, labels: list, num_text: int) -> np.ndarray:
    num_negatives = num_text - 2
    lengths = {1 if _is_number(v) else len(v) for v in labels}
    allowed = {num_negatives, num_negatives + 1} | ({1} if num_negatives == 1 else set())
    if not lengths <= allowed or len(lengths) != 1:
        raise SentforgeError(
            f"{name} with {num_negatives} negative column(s) needs per row {num_negatives} teacher margin(s) "
            f"or {num_negatives + 1} teacher scores (positive first), but got label lengths {sorted(lengths)}."
        )
    return np.asarray(labels, dtype=float)


def _check_in_batch_rows(name: str, num_rows: int, batch_size: int, num_text: int) -> None:
    if num_rows < batch_size or num_rows < 2:
        raise SentforgeError(
            f"{name} uses the other rows of a batch as negatives, but the data has only {num_rows} row(s) "
            f"for a batch size of {batch_size}: every batch would be smaller than requested and the loss "
            f"{'cannot learn anything' if num_rows < 2 else 'sees few negatives'}. Add training rows, or set "
            f"per_device_train_batch_size to at most {max(num_rows, 1)}."
        )
    if batch_size < 2 and num_text < 3:
        raise SentforgeError(
            f"{name} with a batch size of {batch_size} has no negatives at all (the loss is always 0). "
            "Use a batch size of at least 2 (larger is better, e.g. 32), or add a hard-negative column."
        )
