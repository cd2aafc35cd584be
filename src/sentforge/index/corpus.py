"""Rows of a corpus file for an index: an id column and one or more text columns (joined by a space)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ..errors import SentforgeError

DEFAULT_ID_COLUMNS = ("id", "_id")
DEFAULT_TEXT_COLUMN = "text"


@dataclass
class CorpusRows:
    """Ids (as strings) and texts of a corpus, in file order, and the columns they came from."""

    ids: list[str]
    texts: list[str]
    id_column: str
    text_columns: list[str]
    unused_columns: list[str] = field(default_factory=list)

    def columns_said(self) -> str:
        """One line: which columns are embedded, and which are left out and how to add them."""
        line = f"Embedding {' + '.join(repr(c) for c in self.text_columns)} (ids from {self.id_column!r})"
        if not self.unused_columns:
            return line + "."
        left = ", ".join(repr(c) for c in self.unused_columns)
        joined = ",".join([*self.unused_columns[:1], *self.text_columns])
        return f"{line}; not embedded: {left} (to embed a column too: --text-columns {joined})."


def read_corpus(
    source: Any, id_column: str | None = None, text_columns: Sequence[str] | None = None
) -> CorpusRows:
    """Read a csv/jsonl/parquet file (or anything ``sentforge.data.load_data`` reads).

    Without ``id_column`` the column ``id`` or ``_id`` is used; without ``text_columns``, ``text``.
    Several text columns are joined by a space, as BEIR joins a title and its text.
    """
    from ..data import load_data

    data = load_data(source)
    columns = list(data.column_names)
    id_name = id_column or next((name for name in DEFAULT_ID_COLUMNS if name in columns), None)
    if id_name is None:
        raise SentforgeError(f"No id column: the corpus has {', '.join(columns)}. Name one with --id-column NAME.")
    text_names = list(text_columns or [DEFAULT_TEXT_COLUMN])
    missing = [name for name in [id_name, *text_names] if name not in columns]
    if missing:
        raise SentforgeError(
            f"The corpus has no column {', '.join(repr(m) for m in missing)}; its columns are {', '.join(columns)}. "
            "Pick them with --id-column and --text-column (or --text-columns title,text)."
        )
    ids = [_id_text(value, row) for row, value in enumerate(data[id_name], start=1)]
    parts = [data[name] for name in text_names]
    texts = [" ".join(_cell(value) for value in values).strip() for values in zip(*parts)]
    _refuse_empty_texts(texts, text_names)
    refuse_duplicate_ids(ids, "the corpus")
    unused = [name for name in columns if name not in {id_name, *text_names}]
    return CorpusRows(ids, texts, id_name, text_names, unused)


def _id_text(value: Any, row: int) -> str:
    if value is None or (isinstance(value, float) and value != value):
        raise SentforgeError(f"Row {row} of the corpus has no id. Give every row an id, or drop that row.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SentforgeError(f"A text column holds {type(value).__name__} values ({value!r:.40}), not text. "
                             "Pick text columns with --text-column / --text-columns.")
    return value


def _refuse_empty_texts(texts: list[str], columns: list[str]) -> None:
    empty = [row for row, text in enumerate(texts, start=1) if not text]
    if empty:
        shown = ", ".join(str(row) for row in empty[:5]) + (" ..." if len(empty) > 5 else "")
        raise SentforgeError(
            f"{len(empty)} row(s) have no text in {', '.join(columns)} (rows {shown}). Fill them in or drop them."
        )


def refuse_duplicate_ids(ids: Sequence[str], where: str, existing: set[str] | None = None) -> None:
    """Every id must be unique, within ``ids`` and against ``existing`` (the ids already indexed)."""
    seen: set[str] = set()
    repeated: list[str] = []
    for value in ids:
        if value in seen or (existing is not None and value in existing):
            repeated.append(value)
        seen.add(value)
    if not repeated:
        return
    shown = ", ".join(repr(value) for value in list(dict.fromkeys(repeated))[:5])
    if existing is not None:
        raise SentforgeError(
            f"{len(repeated)} id(s) of {where} are already in the index ({shown}). --add only appends new ids: "
            "drop those rows, or rebuild the index with --overwrite."
        )
    raise SentforgeError(f"{len(repeated)} id(s) appear more than once in {where} ({shown}). Make the ids unique.")
