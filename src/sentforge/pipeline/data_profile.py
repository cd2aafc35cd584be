"""What a recipe is chosen from: the row count, the texts' lengths in tokens and the kind of label."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .prepare import PreparedData

PROFILE_SAMPLE_ROWS = 256
"""Rows whose texts are counted: enough for a mean length, cheap with any tokenizer."""

CHARS_PER_TOKEN = 4.0
"""Without a tokenizer, lengths are estimated from characters (about four per English token)."""


@dataclass(frozen=True)
class DataProfile:
    """The shape of the training data, as far as choosing a recipe needs it."""

    rows: int
    task: str
    text_columns: tuple[str, ...]
    mean_tokens: tuple[float, ...]
    """Mean length in tokens of each text column (on a sample), in column order."""
    distinct_labels: int = 0
    tokens_estimated: bool = False
    """True when lengths come from characters because no tokenizer was at hand."""

    @property
    def longest_mean_tokens(self) -> float:
        return max(self.mean_tokens, default=0.0)

    def describe(self) -> str:
        """``827 rows; mean tokens query 24, abstract 243; no label``."""
        lengths = ", ".join(f"{name} {value:.0f}" for name, value in zip(self.text_columns, self.mean_tokens))
        unit = "tokens (estimated from characters)" if self.tokens_estimated else "tokens"
        label = "no label" if self.task in ("pairs", "triplets") else f"{self.distinct_labels} distinct labels"
        return f"{self.rows} rows; mean {unit} {lengths}; {label}"


def profile_data(
    data: PreparedData, count_tokens: Callable[[list[str]], list[int]] | None = None, seed: int = 42
) -> DataProfile:
    """Profile ``data.train``; ``count_tokens`` (the base model's tokenizer) measures lengths in tokens."""
    train = data.train
    texts = tuple(name for name in train.column_names if name != "label")
    rows = list(range(len(train)))
    if len(rows) > PROFILE_SAMPLE_ROWS:
        rows = sorted(random.Random(seed).sample(rows, PROFILE_SAMPLE_ROWS))
    sample = train.select(rows)
    means = []
    for name in texts:
        values = [str(text or "") for text in sample[name]]
        if count_tokens is not None:
            lengths = [float(n) for n in count_tokens(values)]
        else:
            lengths = [len(text) / CHARS_PER_TOKEN for text in values]
        means.append(sum(lengths) / max(len(lengths), 1))
    distinct = len(set(train["label"])) if "label" in train.column_names else 0
    return DataProfile(len(train), data.roles.task, texts, tuple(means), distinct, count_tokens is None)
