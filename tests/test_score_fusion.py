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


class CountingModel:
    """Scores a pair by the length of its document; counts the pairs it was asked for."""

    def __init__(self) -> None:
        self.pairs = 0

    def predict(self, pairs, **_):
        self.pairs += len(pairs)
        return np.array([float(len(doc)) for _, doc in pairs])


def test_scores_the_evaluator_already_has_are_not_computed_again():
    from sentforge.cross_encoder.score_fusion import score_queries

    samples = [{"query": "q1", "positive": ["long positive"], "documents": ["x", "long positive", "yy"]},
               {"query": "q2", "positive": ["missing"], "documents": ["a", "bb"]},  # no positive retrieved
               {"query": "q3", "positive": ["p"], "documents": ["p", "zzz"]}]
    cosines = [[0.9, 0.8, 0.7], [0.5, 0.4], [0.6, 0.3]]
    evaluator = CrossEncoderRerankingEvaluator(samples, at_k=3, always_rerank_positives=False)
    model = CountingModel()
    evaluated = evaluator(model)
    assert model.pairs == 5  # q2 is not scored: nothing relevant was retrieved
    fresh = score_queries(CountingModel(), samples, cosines)
    reused_model = CountingModel()
    reused = score_queries(reused_model, samples, cosines, known=evaluator.last_scores)
    assert reused_model.pairs == 0
    for a, b in zip(fresh, reused):
        assert a.relevant == b.relevant and np.allclose(a.retrieval, b.retrieval)
        if any(a.relevant):
            assert np.allclose(a.rerank, b.rerank)
    assert metrics_at(evaluator, reused, 1.0)["ndcg@3"] == pytest.approx(evaluated["ndcg@3"])
