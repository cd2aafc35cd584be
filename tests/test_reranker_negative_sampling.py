"""train-reranker's negatives: "top" takes the retriever's highest-scoring candidates, "random" draws
(seeded) among its top-k, the passages the reranker will reorder; positives are never negatives."""

from __future__ import annotations

import random

import numpy as np
import pytest

from sentforge import SentenceTransformer
from sentforge.cross_encoder.reranker_data import split_pairs, training_rows
from sentforge.errors import SentforgeError
from tiny_models import WORDS


def _data():
    rng = random.Random(3)
    queries = [f"{' '.join(rng.sample(WORDS, 3))} {i}" for i in range(30)]
    passages = [f"{q} {' '.join(rng.sample(WORDS, 6))}" for q in queries]
    extra = [" ".join(rng.sample(WORDS, 8)) + f" extra {i}" for i in range(60)]
    return queries, passages, passages + extra


def _candidate_ranks(retriever, query: str, positive: str, corpus: list[str]) -> dict[str, int]:
    """Each candidate's rank among the passages scoring at most the positive (the skip line at 1.0)."""
    vectors = retriever.encode([query, positive, *corpus], normalize_embeddings=True)
    scores = vectors[2:] @ vectors[0]
    line = float(vectors[1] @ vectors[0])
    order = [i for i in np.argsort(-scores, kind="stable") if corpus[i] != positive and scores[i] <= line + 1e-6]
    return {corpus[i]: rank for rank, i in enumerate(order)}


def _negatives(rows) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for query, passage, label in zip(rows["query"], rows["positive"], rows["label"]):
        if label == 0:
            found.setdefault(query, []).append(passage)
    return found


@pytest.fixture(scope="module")
def setting(tiny_bert_dir):
    queries, passages, corpus = _data()
    split = split_pairs(queries, passages, seed=0)
    return SentenceTransformer(tiny_bert_dir, device="cpu"), split, corpus


def test_top_and_random_sampling(setting):
    retriever, split, corpus = setting
    held_out = {p for group in split.eval_positives for p in group}
    mining_corpus = [p for p in corpus if p not in held_out]
    top = _negatives(training_rows(split, retriever, corpus, "BinaryCrossEntropyLoss", 2, 1.0, sampling="top"))
    random.seed(0)
    drawn_rows = training_rows(split, retriever, corpus, "BinaryCrossEntropyLoss", 2, 1.0, sampling="random", top_k=20)
    random.seed(0)
    again = training_rows(split, retriever, corpus, "BinaryCrossEntropyLoss", 2, 1.0, sampling="random", top_k=20)
    assert drawn_rows["positive"] == again["positive"]  # seeded
    drawn = _negatives(drawn_rows)
    positives = dict(zip(split.train_queries, split.train_positives))
    top_ranks, drawn_ranks = [], []
    for query, negatives in top.items():
        ranks = _candidate_ranks(retriever, query, positives[query], mining_corpus)
        top_ranks.append(sorted(ranks[n] for n in negatives))
        drawn_ranks += [ranks[n] for n in drawn[query]]
        assert positives[query] not in negatives + drawn[query]
    assert all(ranks == [0, 1] for ranks in top_ranks)  # the two hardest
    assert max(drawn_ranks) < 20 and max(drawn_ranks) > 1  # within the top 20, not only the hardest


def test_unknown_sampling_is_refused(setting):
    retriever, split, corpus = setting
    with pytest.raises(SentforgeError, match="--sampling must be one of random, top"):
        training_rows(split, retriever, corpus, "BinaryCrossEntropyLoss", 2, 1.0, sampling="hardest")
