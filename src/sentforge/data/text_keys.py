"""When two texts count as the same text for leakage: equal after folding case and whitespace.

"A man plays." and "a man plays. " are one input to an uncased model and nearly one to any model, so
a hold-out that put them on both sides would still leak. Grouping, the dev split's filter and the
leakage check all compare these keys, never the raw strings.
"""

from __future__ import annotations


def text_key(text: str) -> str:
    """``text`` with runs of whitespace as one space, no space at the ends, case folded."""
    return " ".join(text.split()).casefold()
