"""The data of ``train-reranker``: (query, positive) rows, a group hold-out, mined training rows.

Held-out rows are split by group (``data.holdout.group_holdout``), so no query and no passage is
on both sides. Hard negatives are mined with the retriever from the training passages and any
extra corpus (never from held-out passages), skipping candidates that score above 95% (by
default) of the query's positive: likely unlabelled positives. The loss decides the row layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from datasets import Dataset

from ..data.holdout import group_holdout
from ..errors import SentforgeError

PAIR_LOSSES = {"BinaryCrossEntropyLoss"}
TUPLE_LOSSES = {"MultipleNegativesRankingLoss", "CachedMultipleNegativesRankingLoss"}
LIST_LOSSES = {"LambdaLoss", "ListNetLoss", "ListMLELoss", "PListMLELoss", "RankNetLoss"}
SUPPORTED_LOSSES = PAIR_LOSSES | TUPLE_LOSSES | LIST_LOSSES
SAMPLINGS = ("random", "top")
SKIP_ABOVE = 0.95  # skip candidates scoring above 95% of the positive's score: likely unlabelled positives
MAX_HELD_OUT = 1000


@dataclass
class RerankerSplit:
    """Training pairs and held-out queries (with every positive each has), from one (query, positive) table."""

    train_queries: list[str]
    train_positives: list[str]
    eval_queries: list[str]
    eval_positives: list[list[str]]
    dropped: int


def query_positive_columns(data: Dataset) -> tuple[str, str]:
    """The first two text columns: the query and its positive passage."""
    text_columns = [name for name, feature in data.features.items() if getattr(feature, "dtype", None) == "string"]
    if len(text_columns) < 2:
        raise SentforgeError(
            f"train-reranker needs (query, positive) text columns; the data has {data.column_names}. Pass a "
            "file whose first two text columns are the query and a relevant passage."
        )
    return text_columns[0], text_columns[1]


def split_pairs(queries: list[str], positives: list[str], seed: int, eval_share: float = 0.1) -> RerankerSplit:
    """About ``eval_share`` of the rows (at most 1,000) held out, whole queries and passages at a time."""
    rows = [(q, p) for q, p in zip(queries, positives) if isinstance(q, str) and q.strip()
            and isinstance(p, str) and p.strip()]
    if len(rows) < 4:
        raise SentforgeError(f"train-reranker needs at least 4 (query, positive) rows with text; got {len(rows)}.")
    queries, positives = [q for q, _ in rows], [p for _, p in rows]
    count = max(1, min(MAX_HELD_OUT, round(len(rows) * eval_share)))
    holdout = group_holdout([queries, positives], count, seed)
    if not holdout.eval or not holdout.train:
        raise SentforgeError(
            "Could not hold out queries for evaluation without putting a passage on both sides (nearly every "
            "row shares a passage). Add more distinct (query, passage) rows."
        )
    grouped: dict[str, list[str]] = {}
    for row in holdout.eval:
        grouped.setdefault(queries[row], []).append(positives[row])
    return RerankerSplit(
        train_queries=[queries[r] for r in holdout.train], train_positives=[positives[r] for r in holdout.train],
        eval_queries=list(grouped), eval_positives=list(grouped.values()), dropped=len(holdout.dropped),
    )


def check_sampling(sampling: str) -> None:
    """Refuse a negative sampling that is not one of SAMPLINGS."""
    if sampling not in SAMPLINGS:
        raise SentforgeError(f"--sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}.")


def training_rows(split: RerankerSplit, retriever, corpus: list[str], loss_name: str, negatives: int,
                  skip_above: float = SKIP_ABOVE, batch_size: int = 64, sampling: str = "random",
                  top_k: int | None = None) -> Dataset:
    """Mine ``negatives`` hard negatives per query; rows laid out for ``loss_name``.

    Candidates scoring above ``skip_above`` times the query's (weakest) positive score are skipped.
    ``sampling`` "random" draws the negatives among the retriever's ``top_k`` candidates, the passages
    the reranker will reorder; "top" takes the highest-scoring ones.
    """
    from ..util import mine_hard_negatives

    if loss_name not in SUPPORTED_LOSSES:
        raise SentforgeError(
            f"train-reranker cannot train {loss_name!r} from (query, positive) data; use one of "
            f"{', '.join(sorted(SUPPORTED_LOSSES))} (MSELoss/MarginMSELoss need teacher scores, "
            "CrossEntropyLoss class labels)."
        )
    if negatives < 1:
        raise SentforgeError(f"--negatives must be at least 1, got {negatives}.")
    check_sampling(sampling)
    held_out = {p for group in split.eval_positives for p in group}
    mining_corpus = [text for text in dict.fromkeys(corpus) if text not in held_out]
    layout = "labeled-pair" if loss_name in PAIR_LOSSES else "n-tuple" if loss_name in TUPLE_LOSSES \
        else "labeled-list"
    pairs = Dataset.from_dict({"query": split.train_queries, "positive": split.train_positives})
    mined = mine_hard_negatives(
        pairs, retriever, anchor_column_name="query", positive_column_name="positive", corpus=mining_corpus,
        num_negatives=negatives, relative_margin=1.0 - skip_above, output_format=layout,
        sampling_strategy=sampling, range_max=max(top_k, negatives) if sampling == "random" and top_k else None,
        batch_size=batch_size, verbose=False,
    )
    if len(mined) == 0 or (layout == "labeled-pair" and 0 not in set(mined["label"])):
        raise SentforgeError(
            f"No hard negatives were found: every candidate scored above {skip_above:.0%} of its query's positive "
            "(or the corpus is too small). Pass a larger --corpus, or a higher --skip-above."
        )
    return mined
