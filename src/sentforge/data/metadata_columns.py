"""Tell text columns from metadata: ids, sources, splits, directions, categories.

A string column is not necessarily a text to embed. NLI triplet files carry ``source`` (snli,
sick...), ``split`` (dev, test) and ``direction`` beside the three sentences; trained as texts they
become hard negatives like "snli". A column is metadata when its name marks it as an id, when its
values look like ids, or when it holds a few distinct short values over many rows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

IGNORED_COLUMN_NAMES = ("dataset_name",)
MIN_ROWS_FOR_SHAPE = 20
"""Below this many rows the values say too little to call a column metadata."""
MAX_CATEGORY_VALUES = 20
SHORT_VALUE_CHARS = 24
SHORT_VALUE_WORDS = 3
_ID_VALUE = re.compile(r"^[\w.:/#-]{1,40}$")


def looks_like_id_name(name: str) -> bool:
    """``id``, ``_id``, ``doc_id``, ``#1 ID``, ``query-ids``..."""
    words = [word for word in re.split(r"[^0-9a-z]+", name.lower()) if word]
    return bool(words) and words[-1] in ("id", "ids", "idx", "uuid")


def metadata_reason(name: str, values: Sequence[str | None]) -> str | None:
    """Why the string column ``name`` is metadata rather than text, or None when it is text."""
    if name in IGNORED_COLUMN_NAMES:
        return "it names the dataset of each row"
    if looks_like_id_name(name):
        return "its name marks it as an id"
    present = [value for value in values if value]
    if len(present) < MIN_ROWS_FOR_SHAPE:
        return None
    distinct = set(present)
    if _all_short(distinct) and len(distinct) <= min(MAX_CATEGORY_VALUES, len(present) // 5):
        shown = ", ".join(repr(v) for v in sorted(distinct)[:3]) + (", ..." if len(distinct) > 3 else "")
        return f"only {len(distinct)} distinct short value{'s' if len(distinct) > 1 else ''} ({shown}) over {len(present)} rows"
    if all(_ID_VALUE.match(value) and any(ch.isdigit() for ch in value) for value in distinct):
        example = next(iter(sorted(distinct)))
        return f"its values look like ids (e.g. {example!r}), not sentences"
    return None


def _all_short(values: set[str]) -> bool:
    return all(len(value) <= SHORT_VALUE_CHARS and len(value.split()) <= SHORT_VALUE_WORDS for value in values)
