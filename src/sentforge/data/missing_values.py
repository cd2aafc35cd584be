"""Number columns written with missing-value words: ``0.4, n/a, 0.7`` is a score column with a gap.

A csv or json file often marks a missing score with ``NA``, ``n/a``, ``null``, ``None`` or ``-``. Read
as it is, the column holds strings and looks like class names. A column whose values are all numbers
or such words is read as numbers with the words as missing values, so the data doctor names the rows
that lack a label instead of refusing the column. A label column of numbers written as text
(``"label": "1"`` in json) is read as numbers too.
"""

from __future__ import annotations

from typing import Any

import datasets
import pyarrow as pa
from datasets.table import InMemoryTable

MISSING_WORDS = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none", "-", "--", "?", "missing"})
"""Cell values (lower-cased, stripped) that mean "no value"."""


def is_missing_word(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in MISSING_WORDS


def numeric_label_columns(dataset: datasets.Dataset, label_names: tuple[str, ...]) -> datasets.Dataset:
    """``dataset`` with each label column (by name) that holds numbers written as text (``"1"``,
    ``"4.5"``, and missing-value words) as float64; other columns untouched."""
    for position, (name, kind) in enumerate(zip(dataset.column_names, dataset.data.schema.types)):
        if name.lower() not in label_names or not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        if dataset._indices is not None:
            dataset = dataset.flatten_indices()
        numbers = numbers_with_gaps(dataset.data.column(name).to_pylist(), need_gap=False)
        if numbers is None:
            continue
        table = dataset.data.table.set_column(position, name, pa.array(numbers, type=pa.float64()))
        dataset = datasets.Dataset(InMemoryTable(table))
    return dataset


def numbers_with_gaps(values: list[Any], need_gap: bool = True) -> list[float | None] | None:
    """``values`` as floats with None for missing-value words, when every value is a number (or a number
    written as text) or such a word, and at least one number (and, with ``need_gap``, one word); else
    None (the column stays as it is)."""
    out: list[float | None] = []
    numbers = words = 0
    for value in values:
        if value is None:
            out.append(None)
        elif is_missing_word(value):
            out.append(None)
            words += 1
        else:
            number = _number(value)
            if number is None:
                return None
            out.append(number)
            numbers += 1
    return out if numbers and (words or not need_gap) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
