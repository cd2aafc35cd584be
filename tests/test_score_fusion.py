"""Fusing a reranker's scores with the retriever's cosine: the weight chosen on held-out queries."""

from __future__ import annotations

import numpy as np
import pytest

from sentforge.cross_encoder.evaluation import CrossEncoderRerankingEvaluator
from sentforge.cross_encoder.score_fusion import (
    ScoredQuery, choose_weight, fused, load_fusion_weight, metrics_at, save_fusion, standardised,
)

EVALUATOR = CrossEncoderRerankingEvaluator([{"query": "q", "positive": ["a"], "documents": ["a", "b"]}], at_k=3)


def test_standardised_scores_and_the_two_ends():
    z = standardised([1.0, 2.0, 3.0])
    assert z.mean() == pytest.approx(0) and z.std() == pytest.approx(1)
    assert standardised([5.0, 5.0]).tolist() == [0.0, 0.0]
    rerank, cosine = [0.1, 9.0, 3.0], [0.9, 0.2, 0.5]
    assert np.argsort(-fused(rerank, cosine, 1.0)).tolist() == [1, 2, 0]
    assert np.argsort(-fused(rerank, cosine, 0.0)).tolist() == [0, 2, 1]


def query(relevant, rerank, cosine) -> ScoredQuery:
    return ScoredQuery(list(relevant), np.asarray(rerank, float), np.asarray(cosine, float), sum(relevant))


def test_a_reranker_that_hurts_gets_weight_zero():
    # the retriever ranks the positive first; the reranker ranks it last
    queries = [query([1, 0, 0, 0], [0.0, 1.0, 2.0, 3.0], [0.9, 0.8, 0.7, 0.6]) for _ in range(3)]
    weight, table = choose_weight(EVALUATOR, queries)
    assert weight == 0.0 and table[0.0] == pytest.approx(1.0) and table[1.0] < 0.6


def test_a_reranker_that_helps_gets_weight_and_its_ndcg():
    # the retriever ranks the positive third; the reranker first
    queries = [query([0, 0, 1, 0], [0.0, 0.5, 5.0, 0.1], [0.9, 0.8, 0.7, 0.6]) for _ in range(2)]
    weight, table = choose_weight(EVALUATOR, queries)
    assert weight > 0 and table[weight] == pytest.approx(1.0)
    assert all(value < 1.0 for w, value in table.items() if w < weight)  # the smallest weight that gets there
    assert metrics_at(EVALUATOR, queries, 0.0)["ndcg@3"] == pytest.approx(1 / np.log2(4))  # rank 3


def test_weight_round_trips_through_the_folder(tmp_path):
    assert load_fusion_weight(str(tmp_path)) is None
    save_fusion(str(tmp_path), 0.35, "held-out", {0.0: 0.5, 0.35: 0.7})
    assert load_fusion_weight(str(tmp_path)) == 0.35
