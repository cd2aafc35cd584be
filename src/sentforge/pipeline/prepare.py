"""Data for a run: load the files, put the columns in training order, rescale scores, hold out an eval split.

After preparation every dataset is *canonical*: its text columns in the order the loss reads them,
then a column named ``label`` when there is a label. The evaluation set keeps its label even when
every row has the same value, so the data doctor can say why a correlation would be NaN.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import datasets
import pyarrow as pa

from ..data import ColumnRoles, apply_column_mapping, infer_roles, load_data
from ..data.checks import unique_texts
from ..data.holdout import group_holdout
from ..data.text_keys import text_key
from ..data.known_files import known_layout
from ..data.roles import LABEL_COLUMN_NAMES, find_label_column
from ..errors import SentforgeError

HOLD_OUT_SHARE = 0.1
HOLD_OUT_MAX_ROWS = 1000
DEV_SPLIT_MAX_ROWS = 5000


@dataclass(frozen=True)
class Canonical:
    """What putting a table in canonical form kept aside: the label's own name and the ignored columns."""

    label: str | None
    ignored: tuple[tuple[str, str], ...]


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
    train_rows: list[int] | None = None
    """The file's row (0-based, header not counted) of each training row; None: the same order."""
    eval_rows: list[int] | None = None
    """Likewise for the evaluation rows (rows of the training file when they were held out)."""

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


def load_table(source: str, what: str, *, recipe: bool = False, notes: list[str] | None = None) -> datasets.Dataset:
    """Rows from a file, a hub id or a shared set name such as ``stsb:train``.

    A benchmark file that does not read as a table (STS-B's headerless ``sts-train.csv``) is read
    by its own layout, and ``notes`` gets a line saying so.
    """
    from ..recipes.sources import load_source

    layout = known_layout(Path(source)) if Path(source).is_file() else None
    if layout is not None and layout.always:
        return _read_layout(source, layout, notes)
    try:
        return load_source(source, what=what)
    except SentforgeError:
        if layout is None:
            raise
        return _read_layout(source, layout, notes)


def _read_layout(source: str, layout, notes: list[str] | None) -> datasets.Dataset:
    dataset = layout.load(Path(source))
    if notes is not None:
        notes.append(f"{source} is not a table of pairs, so it was read as {layout.description}.")
    return dataset


def canonical(
    dataset: datasets.Dataset, columns: list[str] | None, *, keep_constant_label: bool, what: str
) -> tuple[datasets.Dataset, Canonical]:
    """Keep the used columns in order (text columns, then the label renamed ``label``), and say
    which columns were used and which ignored, and why."""
    if columns:
        missing = [name for name in columns if name not in dataset.column_names]
        if missing:
            raise SentforgeError(
                f"The {what} has no column {', '.join(repr(m) for m in missing)}; its columns are "
                f"{', '.join(dataset.column_names)}. Fix --columns (names separated by commas, label last)."
            )
        labels = [name for name in columns if _is_label(dataset, name)] if len(columns) >= 3 else []
        if len(labels) > 1:
            raise SentforgeError(
                f"--columns names {len(labels)} label-like columns ({', '.join(labels)}): numbers or a column "
                "named label/score. Name the text columns and at most one label.")
        label = labels[0] if labels else None
        texts = [name for name in columns if name != label]
        others = tuple((name, "not named in --columns") for name in dataset.column_names if name not in columns)
        return apply_column_mapping(dataset, texts, label), Canonical(label, others)
    roles = infer_roles(dataset)
    label = roles.label_column
    if label is None and keep_constant_label:
        candidate = find_label_column(dataset.column_names)
        label = candidate if candidate and _is_numeric(dataset, candidate) else None
    ignored = tuple((name, why) for name, why in roles.ignored_reasons if name != label)
    return apply_column_mapping(dataset, roles.text_columns, label), Canonical(roles.label_column, ignored)


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
    eval_beside: bool = False,
) -> PreparedData:
    """Load, order the columns, infer the task and (without eval data) hold out a seeded eval split.

    ``eval_beside``: ``eval_source`` is the dev split found beside the training file; its rows that
    share a text with training are left out, and a file that does not fit means a hold-out instead.
    ``recipe`` is accepted for older callers; shared set names are read everywhere now.
    """
    notes: list[str] = []
    raw_train = load_table(train_source, "training data", notes=notes)
    train, kept_aside = canonical(raw_train, columns, keep_constant_label=True, what="training data")
    roles = infer_roles(train)
    roles = dataclasses.replace(
        roles,
        ignored_columns=tuple(name for name, _ in kept_aside.ignored),
        ignored_reasons=kept_aside.ignored,
        label_source=kept_aside.label if roles.label_column else None,
    )
    if roles.label_source and roles.label_source.lower() not in LABEL_COLUMN_NAMES and not columns:
        notes.append(f"Label: column '{roles.label_source}', the one number column (no column is named "
                     f"{' / '.join(LABEL_COLUMN_NAMES)}); name the columns with --columns a,b,label to choose another.")
    if roles.label_column is None and "label" in train.column_names:
        train = train.remove_columns("label")  # a label equal on every row says nothing
    if eval_source is not None and eval_beside:
        found = _dev_split_beside(train, raw_train, columns, eval_columns, roles, eval_source, notes, seed)
        if found is not None:
            return found
    elif eval_source is not None:
        raw_eval = load_table(eval_source, "evaluation data", notes=notes)
        eval_columns = eval_columns or _shared_columns(raw_train, raw_eval, columns, roles)
        eval_data, _ = canonical(raw_eval, eval_columns, keep_constant_label=True, what="evaluation data")
        _check_eval_shape(train, eval_data)
        name = _evaluator_name(eval_source)
        return PreparedData(train, eval_data, roles, name, f"{eval_source} ({len(eval_data)} rows)", notes=notes)
    return hold_out(train, roles, train_source, seed, notes)


def _dev_split_beside(train, raw_train, columns, eval_columns, roles, eval_source: str,
                      notes: list[str], seed: int) -> PreparedData | None:
    """The dev split found beside the training file, less rows sharing a text with training; None
    (with a note saying why) when it cannot serve, so the caller holds out rows instead. A dev split
    larger than DEV_SPLIT_MAX_ROWS is sampled (seeded) so that evaluating each epoch stays cheap."""
    try:
        raw_eval = load_table(eval_source, "evaluation data", notes=notes)
        eval_columns = eval_columns or _shared_columns(raw_train, raw_eval, columns, roles)
        eval_data, _ = canonical(raw_eval, eval_columns, keep_constant_label=True, what="evaluation data")
        _check_eval_shape(train, eval_data)
    except SentforgeError as error:
        notes.append(f"Found {eval_source} beside the training data but cannot evaluate on it ({error}); "
                     "holding out training rows instead (--eval FILE names the evaluation data).")
        return None
    seen = unique_texts(train, [column for column in train.column_names if column != "label"])
    eval_texts = [eval_data[c] for c in eval_data.column_names if c != "label"]
    kept = [row for row, texts in enumerate(zip(*eval_texts)) if not any(text and text_key(text) in seen for text in texts)]
    if not kept:
        notes.append(f"Found {eval_source} beside the training data, but every row shares a text with training; "
                     "holding out training rows instead.")
        return None
    left_out = len(eval_data) - len(kept)
    sampled = len(kept) > DEV_SPLIT_MAX_ROWS
    if sampled:  # evaluation each epoch must stay cheap next to training
        kept = sorted(random.Random(seed).sample(kept, DEV_SPLIT_MAX_ROWS))
    note = (f"No --eval data: evaluating on {eval_source}, the training data's own dev split "
            f"({len(kept)} rows"
            + (f"; {left_out} rows sharing a text with training left out" if left_out else "")
            + (f"; a seeded sample of {DEV_SPLIT_MAX_ROWS} of the rest" if sampled else "")
            + f"). Training uses all {len(train)} training rows (--hold-out holds out 10% of them instead).")
    notes.append(note)
    description = f"{eval_source} ({len(kept)} rows: the training data's own dev split"
    description += f", less {left_out} sharing a text with training" if left_out else ""
    description += ", sampled)" if sampled else ")"
    changed = len(kept) < len(eval_data)
    return PreparedData(train, eval_data.select(kept) if changed else eval_data, roles,
                        _evaluator_name(eval_source), description, notes=notes,
                        eval_rows=kept if changed else None)


def hold_out(
    train: datasets.Dataset, roles: ColumnRoles, train_source: str, seed: int, notes: list[str]
) -> PreparedData:
    """Hold out about 10% (at most 1,000 rows) for evaluation, by group: no text on both sides."""
    count = min(max(round(len(train) * HOLD_OUT_SHARE), 1), HOLD_OUT_MAX_ROWS)
    texts = [c for c in train.column_names if c != "label"]
    split = group_holdout([train[c] for c in texts], count, seed) if len(train) >= 2 else None
    if split is None or not split.eval or not split.train:
        why = "only one training row" if len(train) < 2 else "every row shares a text with every other row"
        notes.append(f"No --eval data and {why}: nothing can be held out, so there is no evaluation.")
        return PreparedData(train, None, roles, notes=notes)
    total = len(train)
    note = (
        f"No --eval data: held out {len(split.eval)} of {total} training rows ({100 * len(split.eval) / total:.0f}%, "
        f"seed {seed}) for evaluation, by group: no text is in both parts. Training uses {len(split.train)} rows"
    )
    if split.dropped:
        note += f"; {len(split.dropped)} rows sharing texts with both parts are left out of both"
    notes.append(note + ".")
    description = f"{len(split.eval)} rows held out from {train_source}"
    return PreparedData(
        train.select(split.train), train.select(split.eval), roles, "held-out", description, len(split.eval),
        notes, split.train, split.eval,
    )


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
    """Map scores onto 0-1 in train and eval; returns what was done (said once, in the notes), or None.

    Usual scales (0-5, 1-5, 0-10, 0-100) are always mapped; any other range only when ``any_scale``
    (the loss was picked from the columns, which said so): for a loss the user named, labels on no
    usual scale are a mistake to report, not a scale.
    """
    scale = data.roles.scale
    if scale is None or scale.is_unit or (not any_scale and not scale.known):
        return None
    low, high = scale.low, scale.high

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
        if data.held_out or (eval_labels and (max(eval_labels) > 1.0 or min(eval_labels) < 0.0)):
            data.eval = apply(data.eval)
    note = f"Scores are on {scale.describe()}: mapped onto 0-1 as {scale.mapping()}, the range the loss expects."
    data.notes.append(note)
    return note
