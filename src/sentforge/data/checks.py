"""The data doctor: find what would spoil a training run before it starts.

Each check looks for one mistake seen in real runs (constant evaluation labels giving NaN
Spearman, NLI classes used as similarity scores, labels that run against the base model, tiny data
trained for many epochs without evaluation...) and reports it as a Finding with its number and
its fix. The base model enters only through two callables supplied by the caller (token counts and
pair cosine), so this module never loads a model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .label_scale import infer_label_scale
from .text_keys import text_key
from .label_checks import PairSimilarity, label_meaning_findings, labels_as_floats, sample_rows
from .report import EVAL_LABELS_CONSTANT, DoctorReport, Finding
from .roles import ColumnRoles, find_label_column, infer_roles, split_columns

CountTokens = Callable[[list[str]], list[int]]
"""Token counts of texts with the base model's tokenizer, special tokens included, not truncated."""

SMALL_DATA_ROWS = 100
MANY_EPOCHS = 10.0
SMALL_FOR_MANY_EPOCHS = 2000
TRUNCATION_WARNING_SHARE = 0.05
LEAKAGE_WARNING_PERCENT = 1.0
DUPLICATE_WARNING_PERCENT = 1.0
_LISTED_ROWS = 10


@dataclass(frozen=True)
class _Columns:
    texts: list[str]
    label: str | None


def diagnose(
    train: datasets.Dataset,
    eval: datasets.Dataset | None = None,
    *,
    roles: ColumnRoles | None = None,
    label_range: tuple[float, float] | None = None,
    in_batch_negatives: bool | None = None,
    max_seq_length: int | None = None,
    count_tokens: CountTokens | None = None,
    pair_similarity: PairSimilarity | None = None,
    batch_size: int = 32,
    epochs: float = 1.0,
    has_evaluation: bool | None = None,
    allow_inverted: bool = False,
    sample_size: int = 500,
    seed: int = 42,
    train_rows: Sequence[int] | None = None,
    eval_rows: Sequence[int] | None = None,
) -> DoctorReport:
    """Check training (and evaluation) data as it will be trained on, after label normalisation.

    ``label_range`` is the range the chosen loss accepts (e.g. (0, 1)); ``in_batch_negatives``
    says whether the loss uses the other rows of a batch as negatives (default: the task is pairs
    or triplets). ``has_evaluation`` defaults to whether ``eval`` is given. ``train_rows`` and
    ``eval_rows`` give each row's position in its file (after a hold-out), so findings name the
    file's rows.
    """
    roles = roles if roles is not None else infer_roles(train)
    if in_batch_negatives is None:
        in_batch_negatives = roles.task in ("pairs", "triplets")
    if has_evaluation is None:
        has_evaluation = eval is not None
    train_columns = _Columns(list(roles.text_columns), roles.label_column or find_label_column(train.column_names))
    findings = _content_findings(train, train_columns, "train", label_range, train_rows)
    findings += _label_outlier_findings(roles)
    findings += _ignored_column_findings(roles)
    findings += _duplicate_findings(train, train_columns, train_rows)
    findings += _size_findings(len(train), in_batch_negatives, batch_size, epochs, has_evaluation)
    if not in_batch_negatives:
        findings += _constant_label_findings(train, train_columns, "train")
    parts = [("train", train, train_columns)]
    if eval is not None:
        eval_label = find_label_column(eval.column_names)
        eval_columns = _Columns(split_columns(eval, eval_label)[0], eval_label)
        parts.append(("eval", eval, eval_columns))
        findings += _content_findings(eval, eval_columns, "eval", label_range, eval_rows)
        findings += _eval_scale_findings(train, train_columns, eval, eval_columns, eval_rows)
        findings += _constant_label_findings(eval, eval_columns, "eval")
        findings += _leakage_findings(train, train_columns, eval, eval_columns)
    for name, data, columns in parts:
        findings += label_meaning_findings(
            _arrow(data), columns.texts, columns.label, name, pair_similarity, allow_inverted, sample_size, seed
        )
        if max_seq_length is not None and count_tokens is not None:
            findings += _truncation_findings(data, columns, name, max_seq_length, count_tokens, sample_size, seed)
    return DoctorReport(findings)


def _arrow(data: datasets.Dataset) -> pa.Table:
    return data.with_format("arrow")[:]


def _rows_text(rows: np.ndarray, file_rows: Sequence[int] | None = None) -> str:
    """Row numbers as a person counts them in the file (1 = first data row), the first few listed."""
    if file_rows is not None:
        rows = np.sort(np.asarray([file_rows[int(r)] for r in rows], dtype=np.int64))
    listed = ", ".join(str(int(r) + 1) for r in rows[:_LISTED_ROWS])
    return listed + (f" and {len(rows) - _LISTED_ROWS} more" if len(rows) > _LISTED_ROWS else "")


def _content_findings(
    data: datasets.Dataset,
    columns: _Columns,
    name: str,
    label_range: tuple[float, float] | None,
    file_rows: Sequence[int] | None = None,
) -> list[Finding]:
    """Empty or missing texts, NaN or infinite labels, labels outside the loss's range."""
    table = _arrow(data)
    findings = []
    for column in columns.texts:
        values = table.column(column)
        empty = pc.or_kleene(pc.is_null(values), pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0))
        rows = np.flatnonzero(empty.fill_null(True).to_numpy(zero_copy_only=False))
        if len(rows):
            findings.append(Finding(
                "empty-text", "error",
                f"{len(rows)} {name} row(s) have an empty or missing '{column}' text: rows {_rows_text(rows, file_rows)}.",
                len(rows), "Fill in or drop those rows; an empty text trains the model on nothing.", name,
            ))
    labels = labels_as_floats(table, columns.label)
    if labels is None:
        return findings
    missing = np.flatnonzero(np.isnan(labels))
    if len(missing):
        findings.append(Finding(
            "nan-label", "error",
            f"{len(missing)} {name} row(s) have a missing or NaN '{columns.label}': rows {_rows_text(missing, file_rows)}.",
            len(missing), "Give every row a numeric label, or drop the rows without one.", name,
        ))
    infinite = np.flatnonzero(np.isinf(labels))
    if len(infinite):
        findings.append(Finding(
            "infinite-label", "error",
            f"{len(infinite)} {name} row(s) have an infinite '{columns.label}' (inf or -inf): "
            f"rows {_rows_text(infinite, file_rows)}.",
            len(infinite), "Replace those labels with finite numbers on the scale of the others, or drop the rows.",
            name,
        ))
    if label_range is not None:
        low, high = label_range
        outside = np.flatnonzero(np.isfinite(labels) & ((labels < low) | (labels > high)))
        if len(outside):
            seen = labels[np.isfinite(labels)]
            findings.append(Finding(
                "label-out-of-range", "error",
                f"{len(outside)} {name} label(s) lie outside [{low:g}, {high:g}], the range the loss expects "
                f"(labels seen: {seen.min():g} to {seen.max():g}); rows {_rows_text(outside, file_rows)}.",
                len(outside),
                f"Rescale the labels onto [{low:g}, {high:g}] (e.g. divide 0-5 scores by 5) or choose a loss "
                "made for your labels.",
                name,
            ))
    return findings


def _ignored_column_findings(roles: ColumnRoles) -> list[Finding]:
    """Which columns play no part, and why (metadata, ids, numbers that are not the label)."""
    if not roles.ignored_reasons:
        return []
    listed = "; ".join(f"'{name}' {why}" for name, why in roles.ignored_reasons)
    return [Finding(
        "ignored-columns", "info",
        f"Training uses the text columns {', '.join(roles.text_columns)}"
        + (f" and the label '{roles.label_source or roles.label_column}'" if roles.label_column else "")
        + f"; it ignores {len(roles.ignored_reasons)} column(s): {listed}.",
        len(roles.ignored_reasons),
        "If a column is used or ignored wrongly, name the columns exactly with --columns a,b[,label].",
        "train",
    )]


def _label_outlier_findings(roles: ColumnRoles) -> list[Finding]:
    """A few labels outside the scale every other label is on: typos, not a wider scale.

    The rows are positions in the data the roles were inferred from (the whole training file)."""
    scale = roles.scale
    if scale is None or not scale.outlier_rows:
        return []
    rows = np.asarray(scale.outlier_rows)
    return [Finding(
        "label-outliers", "error",
        f"{len(rows)} train label(s) lie outside {scale.describe()} that every other label is on: "
        f"rows {_rows_text(rows)}. Read as a wider scale, they would squash every other score.",
        len(rows),
        f"Correct those labels onto the {scale.low:g}-{scale.high:g} scale, or drop the rows. If the scores "
        "really are on a wider scale, map them onto 0-1 in the file.",
        "train",
    )]


def _eval_scale_findings(train: datasets.Dataset, train_columns: _Columns, eval: datasets.Dataset,
                         eval_columns: _Columns, eval_rows: Sequence[int] | None = None) -> list[Finding]:
    """Evaluation labels off the usual scale the training labels are on (a 7 among 0-1 scores): they
    would be scored as if that scale stretched that far."""
    if train_columns.label is None or eval_columns.label is None:
        return []
    train_labels = labels_as_floats(_arrow(train), train_columns.label)
    eval_labels = labels_as_floats(_arrow(eval), eval_columns.label)
    if train_labels is None or eval_labels is None:
        return []
    scale = infer_label_scale(train_labels)
    if scale is None or not scale.known:
        return []
    outside = np.flatnonzero(np.isfinite(eval_labels) & ((eval_labels < scale.low) | (eval_labels > scale.high)))
    if not len(outside):
        return []
    return [Finding(
        "label-outliers", "error",
        f"{len(outside)} eval label(s) lie outside {scale.describe()} the training labels are on: rows "
        f"{_rows_text(outside, eval_rows)} (e.g. {eval_labels[outside[0]]:g}).",
        len(outside),
        f"Put the evaluation labels on the training labels' {scale.low:g}-{scale.high:g} scale, or drop those rows.",
        "eval",
    )]


def _duplicate_findings(data: datasets.Dataset, columns: _Columns, file_rows: Sequence[int] | None = None) -> list[Finding]:
    used = columns.texts + ([columns.label] if columns.label else [])
    frame = _arrow(data).select(used).to_pandas()
    duplicated = np.flatnonzero(frame.duplicated(keep="first").to_numpy())
    if not len(duplicated):
        return []
    percent = 100.0 * len(duplicated) / len(frame)
    return [Finding(
        "duplicate-rows", "warning" if percent >= DUPLICATE_WARNING_PERCENT else "info",
        f"{len(duplicated)} train row(s) ({percent:.1f}%) repeat an earlier row exactly: "
        f"rows {_rows_text(duplicated, file_rows)}.",
        len(duplicated),
        "Drop the duplicates: they weigh some pairs more, and with in-batch negatives a copy in the same "
        "batch acts as a false negative.",
    )]


def _size_findings(
    rows: int, in_batch_negatives: bool, batch_size: int, epochs: float, has_evaluation: bool
) -> list[Finding]:
    findings = []
    if in_batch_negatives and (rows < batch_size or batch_size < 2):
        findings.append(Finding(
            "too-few-rows-for-batch", "error",
            f"{rows} training rows for batch size {batch_size}: a loss with in-batch negatives needs a full "
            "batch of other rows to contrast each pair with.",
            rows,
            f"Add data (hundreds of pairs at least) or lower the batch size to at most {max(rows // 2, 2)}.",
        ))
    elif rows < SMALL_DATA_ROWS:
        findings.append(Finding(
            "small-dataset", "warning",
            f"Only {rows} training rows: too few to fine-tune without overfitting or learning noise.",
            rows, f"Collect at least {SMALL_DATA_ROWS} rows (ideally thousands), or use the base model as it is.",
        ))
    if epochs >= MANY_EPOCHS and rows < SMALL_FOR_MANY_EPOCHS and not has_evaluation:
        findings.append(Finding(
            "many-epochs-no-eval", "warning",
            f"{epochs:g} epochs on {rows} rows with no evaluation: the model will likely memorise the data and "
            "nothing will show it (a near-zero training loss is not a sign of quality).",
            epochs, "Add an evaluation set (or hold out part of the data) and train for fewer epochs (1-3).",
        ))
    return findings


def _constant_label_findings(data: datasets.Dataset, columns: _Columns, name: str) -> list[Finding]:
    labels = labels_as_floats(_arrow(data), columns.label)
    if labels is None:
        return []
    values = np.unique(labels[~np.isnan(labels)])
    if len(values) != 1:
        return []
    constant = float(values[0])
    if name == "eval":
        return [Finding(
            EVAL_LABELS_CONSTANT, "warning",
            f"Every eval label is {constant:g}: Pearson and Spearman correlation are undefined (NaN) for "
            "constant labels, so a similarity evaluation would report NaN. The eval pairs are scored with "
            "retrieval metrics over their own pairs instead (each first text must find its own second text).",
            constant,
            "Add eval pairs with low scores (unrelated texts) for a correlation, or keep the retrieval metrics.",
            name,
        )]
    return [Finding(
        "train-labels-constant", "warning",
        f"Every train label is {constant:g}: a loss that learns from labels gets no contrast from them.",
        constant, "Treat the rows as positive pairs with MultipleNegativesRankingLoss (what --loss auto does).",
        name,
    )]


def _leakage_findings(
    train: datasets.Dataset, train_columns: _Columns, eval: datasets.Dataset, eval_columns: _Columns
) -> list[Finding]:
    train_texts = unique_texts(train, train_columns.texts)
    eval_texts = unique_texts(eval, eval_columns.texts)
    if not eval_texts:
        return []
    seen = eval_texts & train_texts
    if not seen:
        return []
    percent = 100.0 * len(seen) / len(eval_texts)
    return [Finding(
        "eval-leakage", "warning" if percent >= LEAKAGE_WARNING_PERCENT else "info",
        f"{percent:.1f}% of the distinct eval texts ({len(seen)} of {len(eval_texts)}) also appear in the "
        "training data, so evaluation partly measures memorisation.",
        percent,
        "Remove eval rows whose texts occur in training (split by text before pairing) so the scores "
        "measure generalisation.",
        "train+eval",
    )]


def unique_texts(data: datasets.Dataset, columns: list[str]) -> set[str]:
    """The distinct non-empty texts of ``columns``, as ``text_key``s (case and whitespace folded)."""
    table = _arrow(data)
    texts: set[str] = set()
    for column in columns:
        texts.update(text_key(value) for value in pc.unique(table.column(column)).to_pylist() if value)
    texts.discard("")
    return texts


def _truncation_findings(
    data: datasets.Dataset,
    columns: _Columns,
    name: str,
    max_seq_length: int,
    count_tokens: CountTokens,
    sample_size: int,
    seed: int,
) -> list[Finding]:
    table = _arrow(data)
    rows = sample_rows(np.arange(table.num_rows), sample_size, seed)
    texts = [text for column in columns.texts for text in table.column(column).take(pa.array(rows)).to_pylist() if text]
    if not texts:
        return []
    counts = np.asarray(count_tokens(texts))
    truncated = int((counts > max_seq_length).sum())
    if not truncated:
        return []
    share = truncated / len(texts)
    return [Finding(
        "truncated-texts", "warning" if share >= TRUNCATION_WARNING_SHARE else "info",
        f"{100 * share:.1f}% of sampled {name} texts ({truncated} of {len(texts)}) are longer than "
        f"max_seq_length={max_seq_length} tokens and will be cut; the longest has {int(counts.max())} tokens.",
        100 * share,
        "Raise max_seq_length (up to the model's limit, at a cost in memory and speed) or split long "
        "texts into passages.",
        name,
    )]
