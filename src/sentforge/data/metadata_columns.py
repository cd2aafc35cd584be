"""Tell text columns from metadata: ids, sources, splits, directions, categories.

A string column is not necessarily a text to embed. NLI triplet files carry ``source`` (snli,
sick...), ``split`` (dev, test) and ``direction`` beside the three sentences; trained as texts they
become hard negatives like "snli". A column is metadata when its name marks it as an id, when its
values look like ids, dates, times or codes (one shape with numbers in it), or when it holds a few
distinct short values over many rows; beyond the first two texts, also when its short values repeat
(one distinct value in five rows or fewer) and are not among the texts: a tag, not a hard negative.
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
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+")
MAX_NUMBER_PATTERNS = 3
"""Values that all share one of this many shapes once their numbers are blanked are dates, times or codes."""
MAX_PATTERN_VALUE_CHARS = 40


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
    patterns = _number_patterns(distinct)
    if patterns is not None and len(patterns) <= MAX_NUMBER_PATTERNS:
        examples = ", ".join(repr(v) for v in sorted(distinct)[:2])
        return f"its values are one pattern with numbers in it ({examples}, ...), as dates, times and codes are"
    return None


def extra_column_reason(values: Sequence[str | None], text_values: set[str]) -> str | None:
    """Why a string column beyond the first two texts is a tag rather than a third text, or None.

    A third text column holds hard negatives: texts like the others. A column of a few short values
    (at most one distinct value in five rows) that mostly never occur among the texts is a tag or
    category ('topic 7', 'finance'), however many categories it has.
    """
    present = [value for value in values if value]
    if len(present) < MIN_ROWS_FOR_SHAPE:
        return None
    distinct = set(present)
    if not _all_short(distinct) or len(distinct) > len(present) // 5 or mostly_among(present, text_values):
        return None
    shown = ", ".join(repr(v) for v in sorted(distinct)[:3]) + (", ..." if len(distinct) > 3 else "")
    return (f"{len(distinct)} distinct short values ({shown}) over {len(present)} rows, most of them not among the "
            "texts: a tag, not a hard negative")


def _number_patterns(values: set[str]) -> set[str] | None:
    """The values' shapes with every run of digits as '#' ('2024-01-05 10:00' -> '#-#-# #:#'); None when
    a value is long or holds no digit."""
    patterns = set()
    for value in values:
        if len(value) > MAX_PATTERN_VALUE_CHARS or not any(ch.isdigit() for ch in value):
            return None
        pattern = _DIGITS.sub("#", value)
        if len(_WORD.findall(pattern)) > 1:  # 'What is # plus #?' is a sentence with numbers in it
            return None
        patterns.add(pattern)
    return patterns


def mostly_among(values: Sequence[str | None], text_values: set[str]) -> bool:
    """Whether at least half of a column's distinct values are also texts of the text columns (a column
    of hard negatives drawn from the positives, however few distinct values it has)."""
    distinct = {value for value in values if value}
    return bool(distinct) and len(distinct & text_values) * 2 >= len(distinct)


def _all_short(values: set[str]) -> bool:
    return all(len(value) <= SHORT_VALUE_CHARS and len(value.split()) <= SHORT_VALUE_WORDS for value in values)
