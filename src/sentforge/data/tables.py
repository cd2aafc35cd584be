"""Columns in memory: the Table a file reader returns, and checks shared by every source."""

from __future__ import annotations

from typing import Any

from .missing_values import numbers_with_gaps
from ..errors import SentforgeError


class Table:
    """Columns read from a file: names in file order, values per column, and row -> line number."""

    def __init__(self, columns: dict[str, list[Any]], line_of_row: list[int] | None = None):
        self.columns = columns
        self.line_of_row = line_of_row

    @property
    def num_rows(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


def cell_too_long_error(row: int, line: int | None, column: str | None, length: int, limit: int) -> SentforgeError:
    """The error for one oversized text cell (``row`` counts data rows from 1)."""
    where = f"row {row}" + (f" (line {line})" if line is not None else "")
    where += f", column '{column}'" if column is not None else ""
    if length > limit:
        size = f"{length:,} characters long (about {length / 1e6:.1f} MB)"
    else:  # the parser stopped at the limit, so the exact length is unknown
        size = f"longer than {limit:,} characters"
    return SentforgeError(
        f"The text in {where} is {size}; the limit is {limit:,} per cell. Split or truncate long "
        "texts (e.g. into passages of a few hundred words): the model reads at most max_seq_length "
        "tokens of each text anyway."
    )


def check_record_cells(record: dict, row: int, line: int | None, limit: int | None) -> None:
    """Raise the oversized-cell error for the first text value of ``record`` longer than ``limit``."""
    if limit is None:
        return
    for column, value in record.items():
        if isinstance(value, str) and len(value) > limit:
            raise cell_too_long_error(row, line, str(column), len(value), limit)


def records_to_columns(records: list[dict], source: str) -> dict[str, list[Any]]:
    """Turn records into columns (keys in first-seen order; a missing key becomes None; numbers with
    missing-value words such as "n/a" become numbers with gaps)."""
    names: dict[str, None] = {}
    for record in records:
        for key in record:
            names.setdefault(str(key), None)
    if not names:
        raise SentforgeError(f"{source}: the records have no fields. Each record needs its text columns.")
    columns = {name: [record.get(name) for record in records] for name in names}
    return {name: numbers_with_gaps(values) or values for name, values in columns.items()}


def columns_from_dict(data: dict, source: str) -> dict[str, list[Any]]:
    """Check that a dict of lists is a table (every value a list, all the same length, not empty)."""
    if not data:
        raise SentforgeError(f"{source}: no columns. Give a dict of equal-length lists, or a list of records.")
    lengths = {}
    for name, values in data.items():
        if not isinstance(values, (list, tuple)):
            raise SentforgeError(
                f"{source}: column '{name}' is a {type(values).__name__}, not a list. "
                "Give a dict of equal-length lists, or a list of records."
            )
        lengths[str(name)] = len(values)
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise SentforgeError(
            f"{source}: columns have different lengths ({detail}). Give every column the same number of rows."
        )
    if not next(iter(lengths.values())):
        raise SentforgeError(f"{source}: the columns are empty: no rows. Add data.")
    return {str(name): list(values) for name, values in data.items()}


def mixed_type_problem(columns: dict[str, list[Any]]) -> str | None:
    """Describe the first column whose values mix incompatible types (text and numbers...), if any."""
    for name, values in columns.items():
        kinds: dict[str, int] = {}
        for row, value in enumerate(values):
            if value is None:
                continue
            kind = "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__
            kinds.setdefault(kind, row)
        if len(kinds) > 1:
            listing = ", ".join(f"{kind} (first at row {row + 1})" for kind, row in kinds.items())
            return f"column '{name}' mixes {listing}"
    return None
