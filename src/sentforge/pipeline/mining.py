"""Hard negatives for (query, positive) pairs, mined with the base model from the training positives.

The corpus is the distinct positives of the training rows (never the evaluation rows), encoded once
by :func:`sentforge.util.mine_hard_negatives`, which also ranks each query's candidates and never
offers a query its own positives or its own text. On top of that ranking the mining is
positive-aware: a candidate scoring above ``positive_share`` of the query's weakest positive is
likely an unlabelled positive (a false negative), so it is dropped and counted.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import datasets

NEGATIVES_PER_ROW = 1
CANDIDATES = 10
"""Candidates ranked per query; the first ``NEGATIVES_PER_ROW`` that pass the filter are kept."""
POSITIVE_SHARE = 0.95
"""A candidate above 95% of the query's (weakest) positive score is taken for an unlabelled positive."""
MAX_USES = 5
"""A text is the negative of at most this many queries (then the next candidate is taken): no one text
dominates the negatives, and no-duplicates batches can still place every row."""


@dataclass
class MiningResult:
    """The training rows with their negatives, and what the mining did."""

    dataset: datasets.Dataset
    queries: int
    corpus: int
    mined: int
    """Negatives taken from the ranked candidates."""
    dropped: int
    """Candidates skipped as likely false negatives (above the share of the positive's score)."""
    random_fill: int
    """Negatives drawn at random from the corpus, for queries where no candidate passed the filter."""
    negatives_per_row: int
    seconds: float

    def summary(self) -> str:
        """One line for the log and the card."""
        fill = (f"; {self.random_fill} queries had no candidate below that line and got a random training positive "
                "instead" if self.random_fill else "")
        return (
            f"Hard negatives: mined {self.mined} for {self.queries} queries from {self.corpus} training positives with "
            f"the base model ({self.negatives_per_row} per pair); dropped {self.dropped} candidates scoring above "
            f"{POSITIVE_SHARE:.0%} of the query's positive score as likely false negatives{fill} ({self.seconds:.1f} s)."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "queries": self.queries, "corpus": self.corpus, "mined": self.mined, "dropped_false_negatives": self.dropped,
            "random_fill": self.random_fill, "negatives_per_row": self.negatives_per_row,
            "positive_share": POSITIVE_SHARE, "candidates": CANDIDATES, "seconds": round(self.seconds, 3),
        }


def mine_negatives(
    model: Any,
    train: datasets.Dataset,
    *,
    negatives_per_row: int = NEGATIVES_PER_ROW,
    candidates: int = CANDIDATES,
    positive_share: float = POSITIVE_SHARE,
    batch_size: int = 64,
    seed: int = 42,
) -> MiningResult:
    """Add ``negatives_per_row`` hard negatives to each (query, positive) row, in the rows' own order."""
    from ..util import mine_hard_negatives

    began = time.perf_counter()
    query_column, positive_column = train.column_names[:2]
    corpus = list(dict.fromkeys(train[positive_column]))
    if len(corpus) < 2:  # nothing to tell apart: the rows stay pairs
        return MiningResult(train, 0, len(corpus), 0, 0, 0, 0, time.perf_counter() - began)
    candidates = max(candidates, negatives_per_row)
    ranked = mine_hard_negatives(
        train, model, anchor_column_name=query_column, positive_column_name=positive_column,
        num_negatives=candidates, output_format="labeled-list", output_scores=True, batch_size=batch_size,
        verbose=False,
    )
    positives, ranking = _rankings(ranked, query_column)
    rng = random.Random(seed)
    negatives: dict[str, list[str]] = {}
    uses: dict[str, int] = {}
    mined = dropped = random_fill = 0
    for query, found in ranking.items():
        weakest = min(score for _, score in positives[query])
        line = weakest - abs(weakest) * (1.0 - positive_share)
        kept = [text for text, score in found if score <= line]
        dropped += sum(1 for _, score in found if score > line)
        fresh = [text for text in kept if uses.get(text, 0) < MAX_USES]
        picked = (fresh + [text for text in kept if text not in fresh])[:negatives_per_row]
        for text in picked:
            uses[text] = uses.get(text, 0) + 1
        mined += len(picked)
        if len(picked) < negatives_per_row:
            random_fill += 1
            picked += _random_negatives(corpus, query, {text for text, _ in positives[query]}, picked,
                                        negatives_per_row - len(picked), rng)
        negatives[query] = picked
    dataset = _with_negatives(train, negatives, query_column, negatives_per_row, corpus, rng)
    return MiningResult(dataset, len(ranking), len(corpus), mined, dropped, random_fill, negatives_per_row,
                        time.perf_counter() - began)


def _rankings(ranked: datasets.Dataset, query_column: str) -> tuple[dict, dict]:
    """Per query: its positives with their scores, and its candidates best first (each text once)."""
    positives: dict[str, list[tuple[str, float]]] = {}
    ranking: dict[str, list[tuple[str, float]]] = {}
    texts_column, scores_column = ranked.column_names[1], ranked.column_names[2]
    for query, texts, scores in zip(ranked[query_column], ranked[texts_column], ranked[scores_column]):
        positives.setdefault(query, []).append((texts[0], float(scores[0])))
        ranking.setdefault(query, [(text, float(score)) for text, score in zip(texts[1:], scores[1:])])
    return positives, ranking


def _random_negatives(corpus: list[str], query: str, positives: set[str], picked: list[str], count: int,
                      rng: random.Random) -> list[str]:
    """``count`` corpus texts that are neither the query, one of its positives nor already picked."""
    excluded = positives | set(picked) | {query}
    pool = [text for text in corpus if text not in excluded]
    return rng.sample(pool, min(count, len(pool))) if pool else []


def _with_negatives(train: datasets.Dataset, negatives: dict[str, list[str]], query_column: str, count: int,
                    corpus: list[str], rng: random.Random) -> datasets.Dataset:
    """The training rows in their order with negative columns; a query the ranking missed (a positive equal to
    its own text) gets random negatives."""
    names = ["negative"] if count == 1 else [f"negative_{n}" for n in range(1, count + 1)]
    columns: dict[str, list[str]] = {name: [] for name in names}
    positive_column = train.column_names[1]
    positives_of: dict[str, set[str]] = {}
    for query, positive in zip(train[query_column], train[positive_column]):
        positives_of.setdefault(query, set()).add(positive)
    for query in train[query_column]:
        found = negatives.get(query) or _random_negatives(corpus, query, positives_of[query], [], count, rng)
        found = (found + [found[-1]] * count)[:count] if found else [corpus[0]] * count
        for name, text in zip(names, found):
            columns[name].append(text)
    dataset = train
    for name in names:
        dataset = dataset.add_column(name, columns[name])
    return dataset
