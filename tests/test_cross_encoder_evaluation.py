"""Cross-encoder evaluators give sentence-transformers' metric keys and values on the same model."""

from __future__ import annotations

import pytest

from cross_encoder_tiny import PAIRS, build_tiny_cross_encoder
from sentforge.cross_encoder import CrossEncoder
from sentforge.cross_encoder import evaluation as ours

st_ce = pytest.importorskip("sentence_transformers.cross_encoder")
theirs = pytest.importorskip("sentence_transformers.cross_encoder.evaluation")

DOCS = [d for _, d in PAIRS]
SAMPLES = [
    {"query": q, "positive": [d], "negative": [x for x in DOCS if x != d][:3]} for q, d in PAIRS
]
DOCUMENT_SAMPLES = [
    {"query": q, "positive": [d, DOCS[(i + 1) % 6]], "documents": DOCS[i:] + DOCS[:i][::-1]}
    for i, (q, d) in enumerate(PAIRS)
] + [{"query": "nothing relevant", "positive": ["not in the list"], "documents": DOCS[:3]}]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = build_tiny_cross_encoder(str(tmp_path_factory.mktemp("eval_ce")))
    folder3 = build_tiny_cross_encoder(str(tmp_path_factory.mktemp("eval_ce3")), num_labels=3)
    return {1: (CrossEncoder(folder, device="cpu"), st_ce.CrossEncoder(folder, device="cpu")),
            3: (CrossEncoder(folder3, device="cpu"), st_ce.CrossEncoder(folder3, device="cpu"))}


def _same(mine: dict, reference: dict) -> None:
    assert list(mine) == list(reference)
    for key, value in reference.items():
        assert mine[key] == pytest.approx(float(value), abs=1e-6), key


@pytest.mark.parametrize("samples,kwargs", [
    (SAMPLES, {}),
    (DOCUMENT_SAMPLES, {"at_k": 3}),
    (DOCUMENT_SAMPLES, {"always_rerank_positives": False, "name": "dev"}),
])
def test_reranking_matches(models, samples, kwargs, tmp_path):
    model, reference = models[1]
    mine = ours.CrossEncoderRerankingEvaluator(samples, **kwargs)
    _same(mine(model, output_path=str(tmp_path)), theirs.CrossEncoderRerankingEvaluator(samples, **kwargs)(reference))
    assert mine.primary_metric == ("dev_ndcg@10" if kwargs.get("name") else f"ndcg@{kwargs.get('at_k', 10)}")
    assert list(tmp_path.glob("CrossEncoderRerankingEvaluator*.csv"))


@pytest.mark.parametrize("num_labels", [1, 3])
def test_classification_matches(models, num_labels):
    model, reference = models[num_labels]
    labels = [1, 0, 1, 0, 0, 1] if num_labels == 1 else [0, 2, 1, 1, 0, 2]
    mine = ours.CrossEncoderClassificationEvaluator(PAIRS, labels, name="cls")
    _same(mine(model), theirs.CrossEncoderClassificationEvaluator(PAIRS, labels, name="cls")(reference))
    assert mine.primary_metric == ("cls_average_precision" if num_labels == 1 else "cls_f1_macro")


def test_correlation_matches_and_explains_nan(models):
    model, reference = models[1]
    scores = [0.9, 0.1, 0.4, 0.3, 0.8, 0.2]
    _same(ours.CrossEncoderCorrelationEvaluator(PAIRS, scores)(model),
          theirs.CrossEncoderCorrelationEvaluator(PAIRS, scores)(reference))
    constant = ours.CrossEncoderCorrelationEvaluator(PAIRS, [1.0] * 6, name="flat")
    metrics = constant(model)
    assert metrics["flat_spearman"] != metrics["flat_spearman"]
    assert "equal" in constant.nan_reasons["flat_spearman"]
