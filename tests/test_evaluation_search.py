"""semantic_search, paraphrase_mining and mine_hard_negatives against sentence-transformers' util."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from datasets import Dataset

from sentforge.errors import SentforgeError
from sentforge.evaluation.paraphrase_mining import paraphrase_mining
from sentforge.search import mine_hard_negatives, semantic_search
from sentforge.similarity import dot_score

st_util = pytest.importorskip("sentence_transformers.util")

try:  # the fake model and data readers live next to the main evaluator tests
    from test_evaluators import FakeModel, assert_contract_kwargs, scifact_slice, stsb_dev
except ImportError:  # tests/ imported as a package
    from tests.test_evaluators import FakeModel, assert_contract_kwargs, scifact_slice, stsb_dev

TOLERANCE = 1e-6


def assert_same_hits(mine, theirs):
    assert len(mine) == len(theirs)
    for hits_mine, hits_theirs in zip(mine, theirs):
        assert [h["corpus_id"] for h in hits_mine] == [h["corpus_id"] for h in hits_theirs]
        assert np.allclose([h["score"] for h in hits_mine], [h["score"] for h in hits_theirs], atol=TOLERANCE)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"query_chunk_size": 5, "corpus_chunk_size": 50, "top_k": 7},
        {"corpus_chunk_size": 30, "top_k": 12, "score_function": dot_score},
        {"top_k": 500},  # more than the corpus holds: every entry, best first
    ],
)
def test_semantic_search_matches_sentence_transformers(kwargs):
    generator = torch.Generator().manual_seed(0)
    queries, corpus = torch.randn(37, 16, generator=generator), torch.randn(211, 16, generator=generator)
    theirs_kwargs = dict(kwargs)
    if kwargs.get("score_function") is dot_score:
        theirs_kwargs["score_function"] = st_util.dot_score
    mine = semantic_search(queries, corpus, **kwargs)
    assert_same_hits(mine, st_util.semantic_search(queries, corpus, **theirs_kwargs))
    assert all(len(hits) == min(kwargs.get("top_k", 10), 211) for hits in mine)


def test_semantic_search_accepts_numpy_and_a_single_query():
    rng = np.random.default_rng(1)
    query, corpus = rng.standard_normal(8).astype(np.float32), rng.standard_normal((40, 8)).astype(np.float32)
    mine = semantic_search(query, corpus, top_k=5)
    assert_same_hits(mine, st_util.semantic_search(torch.from_numpy(query), torch.from_numpy(corpus), top_k=5))
    assert len(mine) == 1


def test_paraphrase_mining_matches_sentence_transformers():
    s1, s2, _ = stsb_dev(120)
    sentences = list(dict.fromkeys(s1 + s2))
    kwargs = dict(top_k=4, max_pairs=100, query_chunk_size=50, corpus_chunk_size=70)
    mine = paraphrase_mining(FakeModel(), sentences, **kwargs)
    theirs = st_util.paraphrase_mining(FakeModel(), sentences, **kwargs)
    assert [(i, j) for _, i, j in mine] == [(i, j) for _, i, j in theirs]
    assert np.allclose([s for s, _, _ in mine], [s for s, _, _ in theirs], atol=TOLERANCE)
    assert len(mine) == 100 and all(i < j for _, i, j in mine)


def scifact_pairs() -> tuple[Dataset, list[str]]:
    """(query, relevant abstract) rows, several positives for some queries, plus a corpus of other abstracts."""
    queries, corpus, relevant = scifact_slice()
    rows = [(queries[qid], corpus[cid]) for qid in queries for cid in sorted(relevant[qid])]
    assert len({q for q, _ in rows}) < len(rows)  # some anchors have several positives
    dataset = Dataset.from_dict({"query": [q for q, _ in rows], "answer": [a for _, a in rows]})
    return dataset, list(corpus.values())


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"output_format": "n-tuple", "output_scores": True, "num_negatives": 4, "range_min": 2},
        {"output_format": "labeled-pair", "relative_margin": 0.5, "range_max": 250, "corpus": True},
        {"output_format": "labeled-pair", "output_scores": True, "max_score": 0.3},
        {"output_format": "labeled-list", "absolute_margin": 0.0, "range_max": 12, "corpus": True},
        {"output_format": "triplet", "output_scores": True, "min_score": 0.45, "num_negatives": 2},
        {"output_format": "n-tuple", "num_negatives": 3, "corpus": "with anchors"},  # an anchor is never its own negative
    ],
)
def test_mine_hard_negatives_matches_sentence_transformers(kwargs):
    dataset, corpus = scifact_pairs()
    kwargs = dict(kwargs)
    corpus_kind = kwargs.pop("corpus", False)
    if corpus_kind:
        kwargs["corpus"] = corpus + (list(dataset["query"]) if corpus_kind == "with anchors" else [])
    model = FakeModel()
    mine = mine_hard_negatives(dataset, model, verbose=False, **kwargs)
    theirs = st_util.mine_hard_negatives(dataset, FakeModel(), verbose=False, **kwargs)
    assert mine.column_names == theirs.column_names
    assert len(mine) == len(theirs) > 0
    for column in mine.column_names:
        if column in ("scores", "score"):
            assert np.allclose(np.array(mine[column], float), np.array(theirs[column], float), atol=TOLERANCE)
        else:
            assert mine[column] == theirs[column], column
    assert_contract_kwargs(model)


def test_random_sampling_draws_valid_negatives():
    dataset, _ = scifact_pairs()
    positives_of = {}
    for query, answer in zip(dataset["query"], dataset["answer"]):
        positives_of.setdefault(query, set()).add(answer)
    random.seed(0)
    mined = mine_hard_negatives(dataset, FakeModel(), sampling_strategy="random", range_max=20, verbose=False,
                                output_format="n-tuple", num_negatives=3)
    assert mined.column_names == ["query", "answer", "negative_1", "negative_2", "negative_3"]
    assert len(mined) == len(dataset)
    for row in mined:
        negatives = [row["negative_1"], row["negative_2"], row["negative_3"]]
        assert len(set(negatives)) == 3 and not set(negatives) & positives_of[row["query"]]


def test_mine_hard_negatives_reports_user_mistakes():
    dataset, _ = scifact_pairs()
    with pytest.raises(SentforgeError, match="not in the dataset"):
        mine_hard_negatives(dataset, FakeModel(), anchor_column_name="question", verbose=False)
    with pytest.raises(SentforgeError, match="num_negatives"):
        mine_hard_negatives(dataset, FakeModel(), range_max=3, num_negatives=5, verbose=False)
    with pytest.raises(SentforgeError, match="output_format"):
        mine_hard_negatives(dataset, FakeModel(), output_format="pairs", verbose=False)
