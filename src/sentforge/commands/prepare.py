"""Data for a run: load the files, put the columns in training order, rescale scores, hold out an eval split.

After preparation every dataset is *canonical*: its text columns in the order the loss reads them,
then a column named ``label`` when there is a label. The evaluation set keeps its label even when
every row has the same value, so the data doctor can say why a correlation would be NaN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow as pa

from sentforge.data import ColumnRoles, apply_column_mapping, infer_roles, load_data
from sentforge.data.roles import LABEL_COLUMN_NAMES, find_label_column
from sentforge.errors import SentforgeError

HOLD_OUT_SHARE = 0.1
HOLD_OUT_MAX_ROWS = 1000
SCORE_SCALES = (5.0, 10.0, 100.0)
"""Upper ends of the usual 0-N similarity scales that are rescaled onto 0-1 for a score loss."""


@dataclass
class PreparedData:
    """Canonical train (and eval) data, the roles of the train columns, and what was done to them."""

    train: datasets.Dataset
    eval: datasets.Dataset | None
    roles: ColumnRoles
    eval_name: str = "eval"
    eval_description: str = ""
    held_out: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def has_label(self) -> bool:
        return "label" in self.train.column_names


def parse_columns(text: str | None) -> list[str] | None:
    """``"question,answer"`` -> ``["question", "answer"]``; None or blank -> None."""
    if text is None or not text.strip():
        return None
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise SentforgeError(f"--columns {text!r} has an empty name. Write the names separated by commas, e.g. a,b,score.")
    return names


def load_table(source: str, what: str, *, recipe: bool = False) -> datasets.Dataset:
    """Rows from a file or hub id (or, for a recipe, also a shared set name such as ``stsb:train``)."""
    if recipe:
        from sentforge.recipes.sources import load_source

        return load_source(source, what=what)
    return load_data(source)


def canonical(
    dataset: datasets.Dataset, columns: list[str] | None, *, keep_constant_label: bool, what: str
) -> datasets.Dataset:
    """Keep the used columns in order (text columns, then the label renamed ``label``)."""
    if columns:
        missing = [name for name in columns if name not in dataset.column_names]
        if missing:
            raise SentforgeError(
                f"The {what} has no column {', '.join(repr(m) for m in missing)}; its columns are "
                f"{', '.join(dataset.column_names)}. Fix --columns (names separated by commas, label last)."
            )
        label = columns[-1] if len(columns) >= 3 and _is_label(dataset, columns[-1]) else None
        texts = columns[:-1] if label else columns
        return apply_column_mapping(dataset, texts, label)
    roles = infer_roles(dataset)
    label = roles.label_column
    if label is None and keep_constant_label:
        candidate = find_label_column(dataset.column_names)
        label = candidate if candidate and _is_numeric(dataset, candidate) else None
    return apply_column_mapping(dataset, roles.text_columns, label)


def _is_label(dataset: datasets.Dataset, name: str) -> bool:
    return name in LABEL_COLUMN_NAMES or _is_numeric(dataset, name)


def _is_numeric(dataset: datasets.Dataset, name: str) -> bool:
    kind = dataset.data.schema.field(name).type
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def prepare(
    train_source: str,
    eval_source: str | None,
    *,
    columns: list[str] | None = None,
    eval_columns: list[str] | None = None,
    seed: int = 42,
    recipe: bool = False,
) -> PreparedData:
    """Load, order the columns, infer the task and (without eval data) hold out a seeded eval split."""
    raw_train = load_table(train_source, "training data", recipe=recipe)
    train = canonical(raw_train, columns, keep_constant_label=True, what="training data")
    roles = infer_roles(train)
    if roles.label_column is None and "label" in train.column_names:
        train = train.remove_columns("label")  # a label equal on every row says nothing
    if eval_source is not None:
        raw_eval = load_table(eval_source, "evaluation data", recipe=recipe)
        eval_columns = eval_columns or _shared_columns(raw_train, raw_eval, columns, roles)
        eval_data = canonical(raw_eval, eval_columns, keep_constant_label=True, what="evaluation data")
        _check_eval_shape(train, eval_data)
        name = _evaluator_name(eval_source)
        return PreparedData(train, eval_data, roles, name, f"{eval_source} ({len(eval_data)} rows)")
    if len(train) < 2:
        notes = ["Only one training row: nothing can be held out, so there is no evaluation."]
        return PreparedData(train, None, roles, notes=notes)
    count = min(max(round(len(train) * HOLD_OUT_SHARE), 1), HOLD_OUT_MAX_ROWS)
    split = train.train_test_split(test_size=count, seed=seed, shuffle=True)
    note = (
        f"No --eval data: held out {count} of {len(train)} training rows ({100 * count / len(train):.0f}%, "
        f"seed {seed}) for evaluation; training uses the other {len(train) - count}."
    )
    description = f"{count} rows held out from {train_source}"
    return PreparedData(split["train"], split["test"], roles, "held-out", description, count, [note])


def _shared_columns(raw_train, raw_eval, columns: list[str] | None, roles: ColumnRoles) -> list[str] | None:
    """The train columns, when the eval data has them all; else None (infer the eval roles by itself)."""
    wanted = columns or [*roles.text_columns, *([roles.label_column] if roles.label_column else [])]
    if all(name in raw_eval.column_names for name in wanted):
        label = find_label_column(raw_eval.column_names)
        if not columns and roles.label_column is None and label and _is_numeric(raw_eval, label):
            wanted = [*wanted, label]  # keep a constant eval label: the doctor reports it
        return wanted
    if columns:
        raise SentforgeError(
            f"The evaluation data has no column(s) {', '.join(c for c in columns if c not in raw_eval.column_names)} "
            f"named in --columns; its columns are {', '.join(raw_eval.column_names)}. Rename them to match the "
            "training data."
        )
    return None


def _check_eval_shape(train: datasets.Dataset, eval_data: datasets.Dataset) -> None:
    texts = [c for c in train.column_names if c != "label"]
    eval_texts = [c for c in eval_data.column_names if c != "label"]
    if len(texts) != len(eval_texts):
        raise SentforgeError(
            f"The training data has {len(texts)} text columns ({', '.join(texts)}) but the evaluation data has "
            f"{len(eval_texts)} ({', '.join(eval_texts)}). Give both the same shape (e.g. with --columns)."
        )


def _evaluator_name(source: str) -> str:
    stem = Path(source).stem if Path(source).suffix else source.replace("/", "-").replace(":", "-")
    return re.sub(r"[^\w.-]+", "-", stem).strip("-") or "eval"


def rescale_scores(data: PreparedData, any_scale: bool = False) -> str | None:
    """Map scores onto 0-1 in train and eval; returns what was done, or None.

    Only the usual 0-5 (0-10, 0-100) scales are rescaled, unless ``any_scale`` (the loss was picked
    from the columns, which said so): for a loss the user named, a stray 7 among 0/1 labels is a
    mistake to report, not a scale.
    """
    scale = data.roles.label_scale
    if scale is None:
        return None
    if not any_scale and (scale[0] != 0.0 or scale[1] not in SCORE_SCALES):
        return None
    low, high = scale

    def rescale(batch: dict) -> dict:
        batch["label"] = [None if v is None else (float(v) - low) / (high - low) for v in batch["label"]]
        return batch

    def apply(dataset: datasets.Dataset) -> datasets.Dataset:
        features = dataset.features.copy()
        features["label"] = datasets.Value("float64")
        return dataset.map(rescale, batched=True, features=features)

    data.train = apply(data.train)
    if data.eval is not None and "label" in data.eval.column_names:
        eval_labels = [v for v in data.eval["label"] if v is not None]
        if eval_labels and (max(eval_labels) > 1.0 or min(eval_labels) < 0.0):
            data.eval = apply(data.eval)
    note = f"Scores run from {low:g} to {high:g}: mapped onto 0-1 (score - {low:g}) / {high - low:g}, the range the loss expects."
    data.notes.append(note)
    return note
