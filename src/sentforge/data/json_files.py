"""Read JSON Lines (.jsonl, .ndjson) and JSON (.json) files into a Table, one clear error per problem."""

from __future__ import annotations

import json
from pathlib import Path

from .tables import Table, check_record_cells, columns_from_dict, records_to_columns
from ..errors import SentforgeError


def read_json_lines(path: Path, max_cell_chars: int | None = None) -> Table:
    """Read one JSON object per line; blank lines are skipped."""
    records: list[dict] = []
    line_of_row: list[int] = []
    with path.open("r", encoding="utf-8-sig") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise SentforgeError(
                    f"'{path.name}' line {line_number} is not valid JSON ({err.msg} at column {err.colno}). "
                    'Each line must be one JSON object, e.g. {"sentence1": "...", "sentence2": "..."}; '
                    "fix or remove that line."
                ) from None
            if not isinstance(record, dict):
                raise SentforgeError(
                    f"'{path.name}' line {line_number} is a JSON {type(record).__name__}, not an object. "
                    'Each line must be one JSON object, e.g. {"sentence1": "...", "sentence2": "..."}.'
                )
            check_record_cells(record, len(records) + 1, line_number, max_cell_chars)
            records.append(record)
            line_of_row.append(line_number)
    if not records:
        raise SentforgeError(f"Data file '{path}' holds no rows (only blank lines). Point to the file with your data.")
    return Table(records_to_columns(records, path.name), line_of_row)


def read_json(path: Path, max_cell_chars: int | None = None) -> Table:
    """Read a JSON file holding a list of records (or a dict of equal-length lists)."""
    text = path.read_text(encoding="utf-8-sig")
    if not text.strip():
        raise SentforgeError(f"Data file '{path}' is empty (only whitespace). Point to the file with your data.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        hint = (
            " It looks like one JSON object per line: rename the file to .jsonl."
            if err.msg == "Extra data"
            else " Fix the JSON at that place (a validator such as `python -m json.tool` shows it too)."
        )
        raise SentforgeError(
            f"'{path.name}' is not valid JSON: {err.msg} at line {err.lineno}, column {err.colno}.{hint}"
        ) from None
    if isinstance(data, dict) and len(data) == 1 and isinstance(next(iter(data.values())), list):
        inner = next(iter(data.values()))
        if inner and all(isinstance(item, dict) for item in inner):
            data = inner  # {"data": [records...]}
    if isinstance(data, list):
        if not data:
            raise SentforgeError(f"'{path.name}' holds an empty list: no rows. Add records to it.")
        for index, item in enumerate(data):
            if not isinstance(item, dict):
                raise SentforgeError(
                    f"'{path.name}': item {index} of the list is a JSON {type(item).__name__}, not an object. "
                    'Use a list of records, e.g. [{"sentence1": "...", "sentence2": "..."}, ...].'
                )
            check_record_cells(item, index + 1, None, max_cell_chars)
        return Table(records_to_columns(data, path.name))
    if isinstance(data, dict):
        return Table(columns_from_dict(data, path.name))
    raise SentforgeError(
        f"'{path.name}' holds a JSON {type(data).__name__}. Use a list of records, "
        'e.g. [{"sentence1": "...", "sentence2": "..."}, ...], or one object per line in a .jsonl file.'
    )
