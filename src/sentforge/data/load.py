"""One entry point for training data: a file, a hub id, or an in-memory table -> ``datasets.Dataset``.

``load_data`` accepts what users have at hand (a csv/tsv/jsonl/json/parquet file, a
``datasets.Dataset`` or ``DatasetDict``, a pandas DataFrame, a list of records, a dict of lists, or
a Hugging Face Hub dataset id) and either returns a Dataset or raises one SentforgeError that says
what is wrong and how to fix it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.compute as pc

from . import files, json_files, tables
from .missing_values import numeric_label_columns
from .roles import LABEL_COLUMN_NAMES
from ..errors import SentforgeError

DEFAULT_MAX_CELL_CHARS = 1_000_000
"""A text cell longer than this is an error: no model reads it, and it costs memory in every batch."""

_HUB_ID_PATTERN = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, OverflowError)


def load_data(
    source: Any,
    split: str | None = None,
    *,
    config: str | None = None,
    max_cell_chars: int | None = DEFAULT_MAX_CELL_CHARS,
) -> datasets.Dataset:
    """Load training or evaluation rows from a file, a hub id or an in-memory table.

    ``split`` picks one split of a DatasetDict (or of a hub dataset); ``config`` is the hub
    dataset's configuration name. Cells longer than ``max_cell_chars`` characters are rejected
    (None turns the check off).
    """
    line_of_row: list[int] | None = None
    if isinstance(source, datasets.DatasetDict):
        dataset = pick_split(source, split, "the DatasetDict")
    elif isinstance(source, datasets.Dataset):
        dataset = source
    elif isinstance(source, (datasets.IterableDataset, datasets.IterableDatasetDict)):
        raise SentforgeError(
            "Streaming (iterable) datasets are not supported here. Load it without streaming=True, "
            "or materialise it with datasets.Dataset.from_list(list(iterable_dataset))."
        )
    elif _is_dataframe(source):
        dataset = _from_dataframe(source)
    elif isinstance(source, list):
        dataset = _from_records(source)
    elif isinstance(source, dict):
        dataset = _from_columns(tables.columns_from_dict(source, "the dict of columns"), "the dict of columns")
    elif isinstance(source, (str, os.PathLike)):
        dataset, line_of_row = _from_path_or_hub(source, split, config, max_cell_chars)
    else:
        raise SentforgeError(
            f"Cannot load data from a {type(source).__name__}. Pass a file path (csv, tsv, jsonl, json, "
            "parquet), a hub dataset id, a datasets.Dataset/DatasetDict, a pandas DataFrame, a list of "
            "dicts or a dict of lists."
        )
    if len(dataset) == 0:
        raise SentforgeError("The data has no rows. Point to the file or split that holds your rows.")
    dataset = numeric_label_columns(dataset, LABEL_COLUMN_NAMES)
    if max_cell_chars is not None:
        check_cell_sizes(dataset, max_cell_chars, line_of_row)
    return dataset


def pick_split(dataset_dict: datasets.DatasetDict, split: str | None, what: str) -> datasets.Dataset:
    """Return ``dataset_dict[split]``; with no split, the only split, else an error listing them."""
    names = list(dataset_dict.keys())
    if split is None:
        if len(names) == 1:
            return dataset_dict[names[0]]
        raise SentforgeError(
            f"{what} has several splits ({', '.join(names)}); say which one to use, e.g. split='{names[0]}'."
        )
    if split not in dataset_dict:
        raise SentforgeError(f"{what} has no split '{split}'. Its splits are: {', '.join(names) or '(none)'}.")
    return dataset_dict[split]


def check_cell_sizes(dataset: datasets.Dataset, max_chars: int, line_of_row: list[int] | None = None) -> None:
    """Raise SentforgeError naming the first text cell longer than ``max_chars`` characters."""
    text_columns = [
        name
        for name, kind in zip(dataset.column_names, dataset.data.schema.types)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind)
    ]
    if not text_columns:
        return
    offset = 0
    for batch in dataset.with_format("arrow").iter(batch_size=10_000):
        for name in text_columns:
            lengths = pc.utf8_length(batch.column(name))
            longest = pc.max(lengths).as_py()
            if longest is not None and longest > max_chars:
                row = offset + int(pc.index(lengths, longest).as_py())
                line = line_of_row[row] if line_of_row else None
                raise tables.cell_too_long_error(row + 1, line, name, longest, max_chars)
        offset += batch.num_rows


def _is_dataframe(source: Any) -> bool:
    module = type(source).__module__
    return module.startswith("pandas") and type(source).__name__ == "DataFrame"


def _from_dataframe(frame: Any) -> datasets.Dataset:
    columns = [str(name) for name in frame.columns]
    if len(set(columns)) != len(columns):
        raise SentforgeError(f"The DataFrame has duplicate column names ({', '.join(columns)}). Make them unique.")
    try:
        return datasets.Dataset.from_pandas(frame, preserve_index=False)
    except _ARROW_ERRORS:
        records = frame.to_dict(orient="list")
        problem = tables.mixed_type_problem(records) or "a column holds values of mixed types"
        raise SentforgeError(f"The DataFrame cannot be converted: {problem}. Give each column one type.") from None


def _from_records(records: list) -> datasets.Dataset:
    if not records:
        raise SentforgeError("The list of records is empty: no rows. Add records.")
    for index, item in enumerate(records):
        if not isinstance(item, dict):
            raise SentforgeError(
                f"Item {index} of the list is a {type(item).__name__}, not a dict. Pass a list of records, "
                'e.g. [{"sentence1": "...", "sentence2": "..."}, ...].'
            )
    return _from_columns(tables.records_to_columns(records, "the list of records"), "the list of records")


def _from_columns(columns: dict[str, list[Any]], source: str) -> datasets.Dataset:
    try:
        return datasets.Dataset.from_dict(columns)
    except _ARROW_ERRORS:
        problem = tables.mixed_type_problem(columns) or "a column holds values of mixed types"
        raise SentforgeError(
            f"{source} cannot be turned into a table: {problem}. Give each column one type "
            "(texts as strings, labels as numbers)."
        ) from None


def _from_path_or_hub(
    source: str | os.PathLike, split: str | None, config: str | None, max_cell_chars: int | None
) -> tuple[datasets.Dataset, list[int] | None]:
    path = Path(source).expanduser()
    if not path.exists() and looks_like_hub_id(str(source)):
        return _from_hub(str(source), split, config), None
    if path.is_dir() and _is_saved_dataset(path):
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            return pick_split(loaded, split, f"'{path}'"), None
        return loaded, None
    files.check_readable_file(path)
    extension = files.data_extension(path)
    if extension == ".parquet":
        return _from_parquet(path), None
    files.check_utf8(path)
    if extension in files.TEXT_EXTENSIONS:
        table = files.read_delimited(path, max_cell_chars)
    elif extension in files.JSON_LINES_EXTENSIONS:
        table = json_files.read_json_lines(path, max_cell_chars)
    else:
        table = json_files.read_json(path, max_cell_chars)
    return _from_columns(table.columns, f"'{path.name}'"), table.line_of_row


def looks_like_hub_id(text: str) -> bool:
    """True for 'owner/name' or 'name' strings that are not file names with a data extension."""
    if not _HUB_ID_PATTERN.match(text) or text.startswith("."):
        return False
    return not text.lower().endswith(files.SUPPORTED_EXTENSIONS + (".txt", ".xlsx", ".gz"))


def _is_saved_dataset(path: Path) -> bool:
    return any((path / marker).exists() for marker in ("dataset_info.json", "state.json", "dataset_dict.json"))


def _from_parquet(path: Path) -> datasets.Dataset:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise SentforgeError(
            f"'{path.name}' could not be read as parquet ({str(err).splitlines()[0]}). "
            "Check that it really is a parquet file (re-export it with pandas: df.to_parquet(path)) "
            "or rename it to its real format (.csv, .jsonl...)."
        ) from None
    if table.num_rows == 0:
        raise SentforgeError(f"'{path.name}' has columns ({', '.join(table.column_names)}) but no rows. Add data.")
    return datasets.Dataset(table)


def _from_hub(name: str, split: str | None, config: str | None) -> datasets.Dataset:
    try:
        loaded = datasets.load_dataset(name, config, split=split)
    except Exception as err:  # offline, unknown id, unknown split...: all end the same way for the user
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise SentforgeError(
            f"'{name}' is not a local file (working directory: {Path.cwd()}) and could not be loaded "
            f"from the Hugging Face Hub: {reason}. If it is a file, check the path; if it is a hub "
            "dataset, check the id, the split and your network connection, or download it and pass "
            "the file path."
        ) from err
    if isinstance(loaded, datasets.DatasetDict):
        return pick_split(loaded, split, f"Hub dataset '{name}'")
    return loaded
