"""Hold out evaluation rows by group, so that no text sits on both sides of the split.

A random row split puts the same query (or passage, or sentence) in training and in evaluation
whenever it appears on several rows, and the evaluation then partly measures memorisation. Rows
that share any text form one group; whole groups go to one side. When a few groups hold most of
the rows (a sentence paired with many others), the rest is split text by text and the rows that
would straddle the split are left out of both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .text_keys import text_key


@dataclass(frozen=True)
class HoldOut:
    """Row positions for training and evaluation, and rows left out because they straddle the split."""

    train: list[int]
    eval: list[int]
    dropped: list[int]


def row_groups(columns: Sequence[Sequence[str | None]]) -> np.ndarray:
    """A group id per row: rows sharing any text (in any of ``columns``, compared by ``text_key``) share a group."""
    rows = len(columns[0]) if columns else 0
    parent = list(range(rows))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_row: dict[str, int] = {}
    for column in columns:
        for row, text in enumerate(column):
            if not text:
                continue
            seen = first_row.setdefault(text_key(text), row)
            a, b = find(seen), find(row)
            if a != b:
                parent[max(a, b)] = min(a, b)
    return np.array([find(row) for row in range(rows)], dtype=np.int64)


def group_holdout(columns: Sequence[Sequence[str | None]], count: int, seed: int) -> HoldOut:
    """About ``count`` evaluation rows, whole groups at a time, no text on both sides."""
    groups = row_groups(columns)
    rng = np.random.default_rng(seed)
    ids, sizes = np.unique(groups, return_counts=True)
    order = rng.permutation(len(ids))
    chosen: set[int] = set()
    taken = 0
    for i in order:
        if taken + sizes[i] <= count:
            chosen.add(int(ids[i]))
            taken += int(sizes[i])
        if taken >= count:
            break
    in_eval = np.isin(groups, list(chosen))
    eval_rows = np.flatnonzero(in_eval).tolist()
    rest = np.flatnonzero(~in_eval)
    if taken >= count // 2 or len(rest) == 0:
        return HoldOut(rest.tolist(), eval_rows, [])
    extra = _split_by_text(columns, rest, count - taken, rng)
    return HoldOut(extra.train, sorted(eval_rows + extra.eval), extra.dropped)


def _split_by_text(columns: Sequence[Sequence[str | None]], rows: np.ndarray, count: int, rng) -> HoldOut:
    """Rows in random order: a row goes where its texts already are; a row with texts on both sides
    (or one that would grow evaluation past twice ``count``) is dropped; a row with new texts goes to
    evaluation until ``count`` rows are there."""
    eval_texts: set[str] = set()
    train_texts: set[str] = set()
    train, eval_rows, dropped = [], [], []
    for row in rng.permutation(rows).tolist():
        texts = {text_key(column[row]) for column in columns if column[row]}
        in_eval, in_train = bool(texts & eval_texts), bool(texts & train_texts)
        if (in_eval and in_train) or (in_eval and len(eval_rows) >= 2 * count):
            dropped.append(row)
        elif in_eval or (not in_train and len(eval_rows) < count):
            eval_rows.append(row)
            eval_texts |= texts
        else:
            train.append(row)
            train_texts |= texts
    return HoldOut(sorted(train), sorted(eval_rows), sorted(dropped))
