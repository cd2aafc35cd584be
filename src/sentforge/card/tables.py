"""Markdown tables and number formatting, cell for cell as in sentence-transformers' cards."""

from __future__ import annotations

import math
from typing import Any

NOT_A_NUMBER = "n/a"


def is_nan(value: Any) -> bool:
    """True for a NaN number (numpy and torch scalars included), False for anything else."""
    if value is None or isinstance(value, str | bytes | bool):
        return False
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def python_scalar(value: Any) -> Any:
    """numpy and torch scalars as Python numbers, so they print like Python numbers."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0 and not isinstance(value, str | bytes):
        return value.item()
    return value


def round4(value: Any) -> Any:
    """Round floats to 4 decimals (the card's precision for metrics); leave the rest alone."""
    value = python_scalar(value)
    return round(value, 4) if isinstance(value, float) else value


def table_cell(value: Any) -> str:
    """A float with more than 4 decimals is printed with exactly 4 (3.98300 -> "3.9830")."""
    value = python_scalar(value)
    if isinstance(value, float) and math.isnan(value):
        return NOT_A_NUMBER
    text = str(value)
    if isinstance(value, float) and "." in text and len(text.split(".")[1]) > 4:
        return f"{value:.4f}"
    return text


def markdown_table(rows: list[dict[str, Any]], centered: bool = False) -> str:
    """A padded markdown table of `rows` (all with the first row's keys), ending in a newline.

    Columns are left-aligned (metrics, statistics, samples) or centered (training logs).
    """
    if not rows:
        return ""
    headers = list(rows[0])
    cells = [[table_cell(row[key]) for key in headers] for row in rows]
    widths = [max(len(header), *(len(line[i]) for line in cells)) for i, header in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "".join(f"| {value.ljust(width)} " for value, width in zip(values, widths)) + "|\n"

    right = ":" if centered else "-"
    separator = "".join(f"|:{'-' * width}{right}" for width in widths) + "|\n"
    return line(headers) + separator + "".join(line(values) for values in cells)


def join_names(names: list[str]) -> str:
    """"a", "a and b", "a, b and c" (the card's list style for datasets and citations)."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]
