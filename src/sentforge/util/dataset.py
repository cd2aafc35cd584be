"""``resolve_ids``: turn ID columns of a training set into the texts they name, by lookup datasets.

IR datasets often store ``query_id`` / ``document_ids`` next to separate query and document tables.
``train.set_transform(resolve_ids({"query_id": queries, "document_ids": documents}))`` yields rows
of ``{"query": ..., "document_1": ..., "document_N": ..., "scores": ...}`` (or, with
``output_format="lists"``, ``{"query": ..., "documents": [...]}``), as sentence-transformers does.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, Literal

logger = logging.getLogger(__name__)

__all__ = ["resolve_ids"]

DEFAULT_LABEL_COLUMNS: tuple[str, ...] = ("label", "labels", "score", "scores")


def _infer_id_col(dataset, input_col: str) -> str:
    candidates = [col for col in dataset.column_names if col == "id" or col.endswith("_id")]
    if len(candidates) != 1:
        raise ValueError(
            f"Cannot infer the ID column of lookups[{input_col!r}]: "
            f"expected exactly one column named 'id' or ending in '_id', found {candidates or 'none'} "
            f"among {sorted(dataset.column_names)}. Pass an explicit (dataset, id_col) tuple."
        )
    return candidates[0]


def _infer_value_col(dataset, id_col: str, input_col: str) -> str:
    remaining = [col for col in dataset.column_names if col != id_col]
    if len(remaining) != 1:
        raise ValueError(
            f"Cannot infer the value column of lookups[{input_col!r}]: "
            f"expected exactly one column besides {id_col!r}, found {remaining or 'none'}. "
            f"Pass an explicit (dataset, id_col, value_col) tuple."
        )
    return remaining[0]


def _output_col(input_col: str, plural: bool = False) -> str:
    """``query_id`` -> ``query``; in plural mode ``document_ids`` -> ``documents``, ``query_ids`` -> ``queries``."""
    suffixes = {"y_ids": "ies", "_ids": "s", "_id": "", "_idx": ""} if plural else {"_ids": "", "_id": "", "_idx": ""}
    for suffix, replacement in suffixes.items():
        if input_col.endswith(suffix):
            return input_col.removesuffix(suffix) + replacement
    return input_col


def _is_string_encoded_list(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip().startswith("[")


def _parse_string_encoded_lists(column: list, col_name: str) -> list:
    """Rows like ``"[1, 2, 3]"`` (some datasets store lists as strings) as real lists."""
    parsed = []
    for row in column:
        try:
            value = ast.literal_eval(row)
        except (ValueError, SyntaxError) as e:
            raise ValueError(
                f"Column {col_name!r} looks like it holds string-encoded lists, but a row failed to "
                f"parse ({e}): {row[:100]!r}"
            ) from None
        if not isinstance(value, (list, tuple)):
            raise ValueError(
                f"Column {col_name!r} looks like it holds string-encoded lists, but a row parsed to "
                f"{type(value).__name__} instead of a list: {row[:100]!r}"
            )
        parsed.append(list(value))
    return parsed


def _take(ids: list, values, index: dict, value_col: str, input_col: str) -> list:
    """The values of the lookup rows with these ids, in order."""
    if not ids:
        return []
    try:
        rows = [index[key] for key in ids]
    except TypeError:
        raise TypeError(
            f"IDs from input column {input_col!r} are not hashable, which typically means the train "
            "dataset carries a format (e.g. with_format('numpy')). Call dataset.with_format(None) "
            "before applying the transform."
        ) from None
    except KeyError as e:
        missing = e.args[0]
        hint = ""
        if isinstance(missing, str) and missing.lstrip().startswith("["):
            hint = " The ID looks like a string-encoded list. Convert the column to native lists first."
        raise KeyError(
            f"ID {missing!r} from input column {input_col!r} was not found in its lookup dataset.{hint}"
        ) from None
    return values[rows][value_col]


def _add_output_column(resolved: dict[str, Any], name: str, values: list) -> None:
    if name in resolved:
        raise ValueError(
            f"Output column {name!r} is produced more than once (e.g. two lookups entries resolving "
            "to the same name, or an expanded list column colliding with another entry). Rename the "
            "input columns to disambiguate."
        )
    resolved[name] = values


def _resolve_column(resolved: dict, input_col: str, column: list, resolution: tuple, max_list_length, output_format):
    values, index, value_col, stripped_name, plural_name = resolution
    if column and _is_string_encoded_list(column[0]):
        column = _parse_string_encoded_lists(column, input_col)
    if not (column and isinstance(column[0], (list, tuple))):  # one ID per row
        _add_output_column(resolved, stripped_name, _take(list(column), values, index, value_col, input_col))
        return
    if max_list_length is not None:
        column = [row[:max_list_length] for row in column]
    flat = _take([key for row in column for key in row], values, index, value_col, input_col)
    if output_format == "lists":
        nested, offset = [], 0
        for row in column:
            nested.append(flat[offset : offset + len(row)])
            offset += len(row)
        _add_output_column(resolved, plural_name, nested)
        return
    lengths = {len(row) for row in column}
    if len(lengths) != 1:
        raise ValueError(
            f"Rows of input column {input_col!r} hold lists of differing lengths "
            f"{sorted(lengths)}. List columns expand into one output column per position, "
            "which requires the same length on every row. Set max_list_length to cap all "
            'rows to a common length, or output_format="lists" to keep nested lists '
            "(the CrossEncoder listwise shape, which allows ragged rows)."
        )
    width = lengths.pop()
    if width == 0:
        raise ValueError(
            f"Rows of input column {input_col!r} hold empty ID lists, so there are no "
            "positions to expand into columns. Filter such rows out of the dataset."
        )
    for position in range(width):  # flat is row-major: a stride slice is one position of every row
        _add_output_column(resolved, f"{stripped_name}_{position + 1}", flat[position::width])


def _resolve_ids_batch(
    batch: dict[str, Any],
    resolutions: dict[str, tuple],
    keep_columns: tuple[str, ...],
    max_list_length: int | None,
    output_format: Literal["columns", "lists"],
) -> dict[str, Any]:
    """The batched transform :func:`resolve_ids` returns (module level, so it pickles)."""
    if not isinstance(batch, Mapping):
        raise TypeError(
            f"resolve_ids expects batches as plain column dicts, got {type(batch).__name__}: the train "
            "dataset carries a format (e.g. with_format('pandas')). Call dataset.with_format(None) "
            "before applying the transform."
        )
    resolved: dict[str, Any] = {}
    for input_col, resolution in resolutions.items():
        column = batch[input_col]
        if not isinstance(column, list):
            raise TypeError(
                f"Input column {input_col!r} holds a {type(column).__name__} rather than a list, which "
                "means the train dataset carries a format (e.g. with_format('numpy')). Call "
                "dataset.with_format(None) before applying the transform."
            )
        _resolve_column(resolved, input_col, column, resolution, max_list_length, output_format)
    for keep_col in keep_columns:  # labels pass through, cut like the ID lists they align with
        if keep_col not in batch:
            continue
        values = batch[keep_col]
        if len(values) > 0 and _is_string_encoded_list(values[0]):
            values = _parse_string_encoded_lists(values, keep_col)
        is_row_sequence = len(values) > 0 and not isinstance(values[0], (str, bytes)) and hasattr(values[0], "__len__")
        if max_list_length is not None and is_row_sequence:
            values = [row[:max_list_length] for row in values]
        _add_output_column(resolved, keep_col, values)
    return resolved


def _lookup_parts(input_col: str, spec) -> tuple[Any, str | None, str | None]:
    from datasets import Dataset, DatasetDict

    if isinstance(spec, tuple):
        if len(spec) not in (2, 3):
            raise ValueError(
                f"lookups[{input_col!r}] must be a Dataset, (dataset, id_col), or "
                f"(dataset, id_col, value_col), got a tuple of length {len(spec)}."
            )
        dataset, id_col, value_col = (*spec, None)[:3]
    else:
        dataset, id_col, value_col = spec, None, None
    if isinstance(dataset, DatasetDict):
        raise TypeError(
            f"lookups[{input_col!r}] holds a `DatasetDict`, expected a `Dataset`. Pass a specific "
            "split (e.g. `dataset_dict['train']`), or load with `load_dataset(..., split='...')`."
        )
    if not isinstance(dataset, Dataset):
        raise TypeError(f"lookups[{input_col!r}] must hold a `Dataset`, got {type(dataset).__name__}.")
    return dataset, id_col, value_col


def resolve_ids(
    lookups: dict[str, Any],
    keep_columns: list[str] | tuple[str, ...] = DEFAULT_LABEL_COLUMNS,
    max_list_length: int | None = None,
    output_format: Literal["columns", "lists"] = "columns",
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A batched transform resolving each ``lookups`` input column (one ID or a list of IDs per row)
    to the values of its lookup ``Dataset`` (or ``(dataset, id_col[, value_col])``); other columns
    are dropped except ``keep_columns``. Use with ``Dataset.set_transform`` or ``map(batched=True)``."""
    if isinstance(keep_columns, str):
        raise TypeError(f"keep_columns must be a list or tuple of column names, got the string {keep_columns!r}.")
    if max_list_length is not None and max_list_length < 1:
        raise ValueError(f"max_list_length must be a positive integer or None, got {max_list_length}.")
    if output_format not in ("columns", "lists"):
        raise ValueError(f'output_format must be "columns" or "lists", got {output_format!r}.')
    resolutions: dict[str, tuple] = {}
    indices: dict[tuple[int, str], dict] = {}  # shared by entries with the same dataset and ID column
    for input_col, spec in lookups.items():
        dataset, id_col, value_col = _lookup_parts(input_col, spec)
        key = (id(dataset), id_col)
        dataset = dataset.with_format(None)  # plain python keys and values
        id_col = id_col or _infer_id_col(dataset, input_col)
        value_col = value_col or _infer_value_col(dataset, id_col, input_col)
        for role, column in (("ID", id_col), ("value", value_col)):
            if column not in dataset.column_names:
                raise ValueError(
                    f"lookups[{input_col!r}]: {role} column {column!r} is not a column of the lookup dataset "
                    f"(columns: {sorted(dataset.column_names)})."
                )
        key = (key[0], id_col)
        if key not in indices:
            batches = dataset.select_columns([id_col]).iter(batch_size=50_000)
            ids = [value for batch in batches for value in batch[id_col]]
            indices[key] = {value: position for position, value in enumerate(ids)}  # the last duplicate wins
            if len(indices[key]) != dataset.num_rows:
                logger.warning(
                    f"lookups[{input_col!r}] contains duplicate {id_col!r} values "
                    f"({dataset.num_rows - len(indices[key])} rows shadowed). Each duplicated ID resolves to its "
                    "last occurrence."
                )
        resolutions[input_col] = (
            dataset.select_columns([value_col]), indices[key], value_col, _output_col(input_col),
            _output_col(input_col, plural=True),
        )
    return partial(
        _resolve_ids_batch,
        resolutions=resolutions,
        keep_columns=tuple(keep_columns),
        max_list_length=max_list_length,
        output_format=output_format,
    )
