"""Dataset statistics and samples for the card's Training Details.

Strings are measured in tokens with the model's own tokenizer (special tokens included, after
truncation to max_seq_length), as sentence-transformers does, over the first 1000 rows.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from textwrap import indent
from typing import Any

from .info import ColumnStatistics, DatasetInfo, LossInfo
from .tables import markdown_table

STATS_ROWS = 1000
SAMPLE_ROWS = 3
MAX_SAMPLE_CHARS = 1000

TokenCounter = Callable[[list[str]], list[int]]


def token_counter(model: Any, batch_size: int = 64) -> TokenCounter:
    """Count tokens as the model sees them: at most ``max_seq_length``, special tokens included (the
    Transformer module's counts, shared with the run's token memo; else ``model.tokenize``'s mask summed)."""
    first = model[0] if hasattr(model, "__getitem__") and len(model) else None
    if callable(getattr(first, "count_tokens", None)):
        limit = first.max_seq_length

        def truncated_counts(texts: list[str]) -> list[int]:
            return [count if limit is None else min(count, limit) for count in first.count_tokens(list(texts))]

        return truncated_counts

    def count_tokens(texts: list[str]) -> list[int]:
        counts: list[int] = []
        for start in range(0, len(texts), batch_size):
            features = model.tokenize(texts[start : start + batch_size])
            counts.extend(int(n) for n in features["attention_mask"].sum(dim=1).tolist())
        return counts

    return count_tokens


def describe_dataset(
    rows: Iterable[Mapping[str, Any]],
    count_tokens: TokenCounter,
    *,
    name: str | None = None,
    size: int | None = None,
    columns: list[str] | None = None,
    loss: LossInfo | None = None,
    hub_id: str | None = None,
    revision: str | None = None,
) -> DatasetInfo:
    """Describe a dataset for the card from its rows (a list of dicts or a `datasets.Dataset`).

    Only the first 1000 rows are read; `size` defaults to `len(rows)`.
    """
    if size is None:
        size = len(rows)  # type: ignore[arg-type]
    first_rows = [dict(row) for row in itertools.islice(rows, STATS_ROWS)]
    if columns is None:
        columns = [column for column in (first_rows[0] if first_rows else {}) if column != "dataset_name"]
    statistics = {
        column: column_statistics([row.get(column) for row in first_rows], count_tokens) for column in columns
    }
    return DatasetInfo(
        name=name,
        size=size,
        columns=list(columns),
        samples=[{column: row.get(column) for column in columns} for row in first_rows[:SAMPLE_ROWS]],
        statistics=statistics if first_rows else {},
        stats_rows=len(first_rows),
        loss=loss,
        hub_id=hub_id,
        revision=revision,
    )


def column_statistics(values: list[Any], count_tokens: TokenCounter) -> ColumnStatistics:
    """Statistics of one column; the first value's type decides how the column is described."""
    if not values:
        return ColumnStatistics(dtype="unknown")
    first = values[0]
    if isinstance(first, str):
        counts = count_tokens([value for value in values if isinstance(value, str)])
        return ColumnStatistics("string", _min_mean_max(counts, suffix=" tokens"))
    numbers = [value for value in values if isinstance(value, int | float)]
    if isinstance(first, int | float) and any(isinstance(v, float) for v in numbers):
        return ColumnStatistics("float", _min_mean_max(numbers, suffix=""))
    if isinstance(first, int):  # bool is an int too, and is shown as "bool"
        counter = Counter(values)
        approx = "~" if len(counter) > 1 else ""
        details = {str(key): f"{approx}{counter[key] / len(values):.2%}" for key in sorted(counter)}
        return ColumnStatistics(type(first).__name__, details)
    if isinstance(first, list):
        sizes = [len(value) for value in values if isinstance(value, list)]
        if min(sizes) == max(sizes):
            return ColumnStatistics("list", {"size": f"{sizes[0]} elements"})
        mean = sum(sizes) / len(sizes)
        details = {"min": f"{min(sizes)} elements", "mean": f"{mean:.2f} elements", "max": f"{max(sizes)} elements"}
        return ColumnStatistics("list", details)
    return ColumnStatistics(f"{type(first).__module__}.{type(first).__qualname__}")


def statistics_table(dataset: DatasetInfo) -> str:
    """The "type / details" table, indented under its bullet; "" when there are no statistics."""
    if not dataset.statistics:
        return ""
    stats = {column: dataset.statistics[column] for column in dataset.columns if column in dataset.statistics}
    rows = [
        {"": "type", **{column: stat.dtype for column, stat in stats.items()}},
        {"": "details", **{column: _html_list(stat.details) for column, stat in stats.items()}},
    ]
    return indent(markdown_table(rows), "  ").rstrip("\n")


def samples_table(dataset: DatasetInfo) -> str:
    """The first three rows as a table of <code> cells, indented under its bullet."""
    rows = [
        {column: f"<code>{format_sample(sample.get(column))}</code>" for column in dataset.columns}
        for sample in dataset.samples[:SAMPLE_ROWS]
    ]
    return indent(markdown_table(rows), "  ").rstrip("\n") if rows else ""


def format_sample(value: Any) -> str:
    """One table cell: long texts and lists cut short, newlines as <br>, pipes escaped."""
    if isinstance(value, list) and len(value) > 5:
        return str(value[:5])[:-1] + ", ...]"
    if isinstance(value, str) and len(value) > MAX_SAMPLE_CHARS:
        value = value[:MAX_SAMPLE_CHARS] + "..."
    return str(value).replace("\n", "<br>").replace("|", "\\|")


def _min_mean_max(values: list[int | float], suffix: str) -> dict[str, str]:
    if not values:
        return {}
    mean = sum(values) / len(values)
    return {
        "min": f"{round(min(values), 2)}{suffix}",
        "mean": f"{round(mean, 2)}{suffix}",
        "max": f"{round(max(values), 2)}{suffix}",
    }


def _html_list(details: dict[str, str]) -> str:
    if not details:
        return ""
    return "<ul><li>" + "</li><li>".join(f"{key}: {value}" for key, value in details.items()) + "</li></ul>"
