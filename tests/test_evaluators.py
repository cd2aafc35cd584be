"""sentforge's evaluators against sentence-transformers' on the same embeddings and real data.

A bag-of-words fake model (fixed random vector per token) honours the encode contract and is passed
to both libraries' evaluators, so any difference in the metrics comes from the evaluators. Metrics
must agree within 1e-6 (absolute), keys and primary metrics exactly.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from sentforge import evaluation as ours
from sentforge.errors import SentforgeError
from sentforge.similarity import SimilarityFunction

st_eval = pytest.importorskip("sentence_transformers.sentence_transformer.evaluation")
from sentence_transformers.base.evaluation import SequentialEvaluator as STSequentialEvaluator  # noqa: E402

DATA = Path(os.environ.get("SENTFORGE_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"))
TOLERANCE = 1e-6
ENCODE_CONTRACT = {
    "batch_size", "show_progress_bar", "convert_to_numpy", "convert_to_tensor", "normalize_embeddings",
    "prompt", "prompt_name", "truncate_dim",
}


STOP_WORDS = set("a an the is are was were be of in on to and or with for at by from as it its this that".split())


@functools.lru_cache(maxsize=None)
def _token_vector(token: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(token.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim)


class FakeCardData:
    def __init__(self):
        self.calls = []

    def set_evaluation_metrics(self, evaluator, metrics, epoch=0, step=0):
        self.calls.append((evaluator, dict(metrics), epoch, step))


class FakeModel:
    """Embeds a text as the mean of fixed random token vectors plus a fixed per-text vector, so that
    texts sharing words are similar. Accepts the extra keyword arguments sentence-transformers passes."""

    def __init__(self, dim: int = 24, similarity_fn_name: str = "cosine"):
        self.dim = dim
        self.similarity_fn_name = similarity_fn_name
        self.prompts: dict[str, str] = {}
        self.device = torch.device("cpu")
        self.model_card_data = FakeCardData()
        self.encode_kwargs: list[dict] = []

    def vector(self, text: str) -> np.ndarray:
        tokens = [t for t in re.findall(r"\w+", text.lower()) if t not in STOP_WORDS] or [""]
        mean = np.mean([_token_vector(t, self.dim) for t in tokens], axis=0)
        return (mean + 0.1 * _token_vector("\0" + text, self.dim)).astype(np.float32)

    def encode(self, sentences, batch_size=32, show_progress_bar=None, convert_to_numpy=True,
               convert_to_tensor=False, normalize_embeddings=False, **kwargs):
        self.encode_kwargs.append({"batch_size": batch_size, "show_progress_bar": show_progress_bar,
                                   "convert_to_numpy": convert_to_numpy, "convert_to_tensor": convert_to_tensor,
                                   "normalize_embeddings": normalize_embeddings, **kwargs})
        single = isinstance(sentences, str)
        embeddings = np.stack([self.vector(s) for s in ([sentences] if single else sentences)])
        if normalize_embeddings:
            embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
        if convert_to_tensor:
            out = torch.from_numpy(embeddings)
        elif convert_to_numpy:
            out = embeddings
        else:
            out = list(torch.from_numpy(embeddings))
        return out[0] if single else out

    encode_query = encode
    encode_document = encode

    def similarity(self, a, b):
        return SimilarityFunction.to_similarity_fn(self.similarity_fn_name)(a, b)

    def similarity_pairwise(self, a, b):
        return SimilarityFunction.to_similarity_pairwise_fn(self.similarity_fn_name)(a, b)


def assert_same_metrics(mine: dict, theirs: dict) -> None:
    assert list(mine) == list(theirs)
    for key in theirs:
        a, b = float(mine[key]), float(theirs[key])
        assert (math.isnan(a) and math.isnan(b)) or abs(a - b) <= TOLERANCE, (key, a, b)


def assert_contract_kwargs(model: FakeModel) -> None:
    for call in model.encode_kwargs:
        assert set(call) <= ENCODE_CONTRACT, set(call) - ENCODE_CONTRACT


# ---------------------------------------------------------------- data


@functools.lru_cache(maxsize=None)
def stsb_dev(n: int = 300) -> tuple[list[str], list[str], list[float]]:
    path = DATA / "stsb" / "sts-dev.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    s1, s2, scores = [], [], []
    with open(path, encoding="utf-8") as f:
        for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            scores.append(float(row[4]))
            s1.append(row[5])
            s2.append(row[6])
            if len(scores) == n:
                break
    return s1, s2, scores


@functools.lru_cache(maxsize=None)
def mrpc_val(n: int = 250) -> tuple[list[str], list[str], list[int]]:
    path = DATA / "mrpc" / "msr-para-val.tsv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    with open(path, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[1 : n + 1]
    return [r[3] for r in rows], [r[4] for r in rows], [int(r[0]) for r in rows]


@functools.lru_cache(maxsize=None)
def nli_triplets(n: int = 200) -> tuple[list[str], list[str], list[str]]:
    path = DATA / "nli" / "triplets.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found")
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if len(rows) == n:
                break
    return [r["anchor"] for r in rows], [r["positive"] for r in rows], [r["negative"] for r in rows]


@functools.lru_cache(maxsize=None)
def scifact_slice(n_queries: int = 40, n_other_docs: int = 250):
    """Test queries with their relevant abstracts, other abstracts, and exact copies of a few relevant
    abstracts under other ids (score ties that must be broken by corpus id)."""
    root = DATA / "scifact"
    if not root.exists():
        pytest.skip(f"{root} not found")
    relevant: dict[str, set[str]] = {}
    with open(root / "qrels" / "test.tsv", encoding="utf-8") as f:
        for qid, cid, _ in list(csv.reader(f, delimiter="\t"))[1:]:
            if qid in relevant or len(relevant) < n_queries:
                relevant.setdefault(qid, set()).add(cid)
    with open(root / "queries.jsonl", encoding="utf-8") as f:
        queries = {q["_id"]: q["text"] for q in map(json.loads, f) if q["_id"] in relevant}
    wanted = set().union(*relevant.values())
    corpus = {}
    with open(root / "corpus.jsonl", encoding="utf-8") as f:
        for i, doc in enumerate(map(json.loads, f)):
            if doc["_id"] in wanted or i < n_other_docs:
                corpus[doc["_id"]] = f"{doc['title']} {doc['text']}"
    for cid in sorted(wanted)[:8]:
        corpus[f"copy-{cid}"] = corpus[cid]
    return queries, corpus, relevant


# ---------------------------------------------------------------- semantic similarity


@pytest.mark.parametrize(
    "kwargs, fn_name",
    [
        ({}, "cosine"),
        ({}, "dot"),
        ({"similarity_fn_names": ["cosine", "dot", "euclidean", "manhattan"]}, "cosine"),
        ({"main_similarity": "manhattan"}, "cosine"),
        ({"similarity_fn_names": ["cosine", "euclidean"], "main_similarity": SimilarityFunction.EUCLIDEAN}, "cosine"),
    ],
)
def test_embedding_similarity_matches_sentence_transformers(kwargs, fn_name):
    s1, s2, scores = stsb_dev()
    mine_model, st_model = FakeModel(similarity_fn_name=fn_name), FakeModel(similarity_fn_name=fn_name)
    mine = ours.EmbeddingSimilarityEvaluator(s1, s2, scores, name="sts-dev", **kwargs)
    theirs = st_eval.EmbeddingSimilarityEvaluator(s1, s2, scores, name="sts-dev", **kwargs)
    metrics = mine(mine_model)
    assert_same_metrics(metrics, theirs(st_model))
    assert mine.primary_metric == theirs.primary_metric
    assert mine.nan_reasons == {}
    if "sts-dev_spearman_cosine" in metrics:  # the fake model gives a real signal, not noise
        assert metrics["sts-dev_spearman_cosine"] > 0.2
    assert_contract_kwargs(mine_model)


def test_default_similarity_is_the_models_own():
    s1, s2, scores = stsb_dev()
    metrics = ours.EmbeddingSimilarityEvaluator(s1, s2, scores)(FakeModel(similarity_fn_name="manhattan"))
    assert list(metrics) == ["pearson_manhattan", "spearman_manhattan"]


@pytest.mark.filterwarnings("ignore::scipy.stats.ConstantInputWarning")  # raised by sentence-transformers' copy
def test_constant_labels_give_nan_with_a_reason():
    s1, s2, _ = stsb_dev()
    ones = [1.0] * 50
    mine = ours.EmbeddingSimilarityEvaluator(s1[:50], s2[:50], ones, name="qa-eval")
    metrics = mine(FakeModel())  # must not raise
    theirs = st_eval.EmbeddingSimilarityEvaluator(s1[:50], s2[:50], ones, name="qa-eval")(FakeModel())
    assert_same_metrics(metrics, theirs)
    assert math.isnan(metrics["qa-eval_spearman_cosine"]) and math.isnan(metrics["qa-eval_pearson_cosine"])
    assert set(mine.nan_reasons) == {"qa-eval_pearson_cosine", "qa-eval_spearman_cosine"}
    reason = mine.nan_reasons["qa-eval_spearman_cosine"]
    assert "all 50 labels are equal (1)" in reason and "InformationRetrievalEvaluator" in reason


class CollapsedModel(FakeModel):
    """A broken model that maps every text to the same embedding."""

    def vector(self, text: str) -> np.ndarray:
        return super().vector("same")


def test_collapsed_embeddings_give_nan_with_a_reason():
    s1, s2, scores = stsb_dev()
    evaluator = ours.EmbeddingSimilarityEvaluator(s1[:20], s2[:20], scores[:20])
    result = evaluator(CollapsedModel())
    assert math.isnan(result["spearman_cosine"])
    assert "all 20 cosine similarities are equal" in evaluator.nan_reasons["spearman_cosine"]


def test_name_prefixing_and_primary_metric():
    s1, s2, scores = stsb_dev()
    unnamed = ours.EmbeddingSimilarityEvaluator(s1, s2, scores)
    named = ours.EmbeddingSimilarityEvaluator(s1, s2, scores, name="sts_dev")
    assert set(unnamed(FakeModel())) == {"pearson_cosine", "spearman_cosine"}
    assert unnamed.primary_metric == "spearman_cosine"
    for _ in range(2):  # calling twice must not prefix twice
        assert set(named(FakeModel())) == {"sts_dev_pearson_cosine", "sts_dev_spearman_cosine"}
        assert named.primary_metric == "sts_dev_spearman_cosine"
    assert named.prefix_name_to_metrics({"a": np.float32(0.5)}, "x") == {"x_a": 0.5}


def test_descriptions_and_task_types():
    s1, s2, scores = stsb_dev(20)
    queries, corpus, relevant = scifact_slice()
    a, p, n = nli_triplets(5)
    cases = {
        ours.EmbeddingSimilarityEvaluator(s1, s2, scores): ("Semantic Similarity", "semantic-similarity"),
        ours.InformationRetrievalEvaluator(queries, corpus, relevant): (
            "Information Retrieval", "information-retrieval"),
        ours.BinaryClassificationEvaluator(s1[:2], s2[:2], [0, 1]): ("Binary Classification", "binary-classification"),
        ours.TripletEvaluator(a, p, n): ("Triplet", "triplet"),
        ours.MSEEvaluator(s1, s1, teacher_model=FakeModel()): ("Knowledge Distillation", "knowledge-distillation"),
    }
    for evaluator, (description, task_type) in cases.items():
        assert (evaluator.description, evaluator.task_type) == (description, task_type)


def test_csv_matches_sentence_transformers(tmp_path):
    s1, s2, scores = stsb_dev(60)
    fns = ["cosine", "euclidean"]
    for evaluator, out in [
        (ours.EmbeddingSimilarityEvaluator(s1, s2, scores, name="dev", similarity_fn_names=fns), tmp_path / "ours"),
        (st_eval.EmbeddingSimilarityEvaluator(s1, s2, scores, name="dev", similarity_fn_names=fns), tmp_path / "st"),
    ]:
        evaluator(FakeModel(), output_path=str(out), epoch=1, steps=10)
        evaluator(FakeModel(), output_path=str(out), epoch=2, steps=20)
    mine = list(csv.reader(open(tmp_path / "ours" / "similarity_evaluation_dev_results.csv")))
    theirs = list(csv.reader(open(tmp_path / "st" / "similarity_evaluation_dev_results.csv")))
    assert mine[0] == theirs[0] and len(mine) == len(theirs) == 3
    for row_mine, row_theirs in zip(mine[1:], theirs[1:]):
        assert np.allclose(np.array(row_mine, float), np.array(row_theirs, float), atol=TOLERANCE)


def test_metrics_reach_the_model_card_data():
    s1, s2, scores = stsb_dev(30)
    model = FakeModel()
    evaluator = ours.EmbeddingSimilarityEvaluator(s1, s2, scores, name="dev")
    metrics = evaluator(model, epoch=1, steps=5)
    assert model.model_card_data.calls == [(evaluator, metrics, 1, 5)]


def test_mismatched_lengths_raise_a_clear_error():
    with pytest.raises(SentforgeError, match="one score per"):
        ours.EmbeddingSimilarityEvaluator(["a", "b"], ["c"], [1.0, 0.0])
    with pytest.raises(SentforgeError, match="labels 0 .* or 1"):
        ours.BinaryClassificationEvaluator(["a", "b"], ["c", "d"], [0, 2])
    with pytest.raises(SentforgeError, match="Unknown similarity_fn_names"):
        ours.EmbeddingSimilarityEvaluator(["a"], ["b"], [1.0], similarity_fn_names=["jaccard"])


# ---------------------------------------------------------------- information retrieval


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"corpus_chunk_size": 70, "name": "scifact"},
        {"score_functions": {"cosine": SimilarityFunction.to_similarity_fn("cosine"),
                             "dot": SimilarityFunction.to_similarity_fn("dot")}},
        {"main_score_function": "cosine", "mrr_at_k": [5, 10], "ndcg_at_k": [3, 10], "accuracy_at_k": [1, 2],
         "precision_recall_at_k": [2, 20], "map_at_k": [5, 100], "corpus_chunk_size": 33},
    ],
)
def test_information_retrieval_matches_sentence_transformers(kwargs):
    queries, corpus, relevant = scifact_slice()
    mine_model, st_model = FakeModel(), FakeModel()
    mine = ours.InformationRetrievalEvaluator(queries, corpus, relevant, **kwargs)
    theirs = st_eval.InformationRetrievalEvaluator(queries, corpus, relevant, **kwargs)
    mine_metrics = mine(mine_model)
    assert_same_metrics(mine_metrics, theirs(st_model))
    assert mine.primary_metric == theirs.primary_metric
    assert 0.05 < mine_metrics[mine.primary_metric] < 1.0
    assert_contract_kwargs(mine_model)


def test_information_retrieval_prompts_are_passed_only_when_set():
    queries, corpus, relevant = scifact_slice()
    model = FakeModel()
    ours.InformationRetrievalEvaluator(queries, corpus, relevant)(model)
    assert all("prompt" not in c and "prompt_name" not in c and "truncate_dim" not in c for c in model.encode_kwargs)
    model = FakeModel()
    ours.InformationRetrievalEvaluator(queries, corpus, relevant, query_prompt="query: ")(model)
    assert [c.get("prompt") for c in model.encode_kwargs] == ["query: ", None]


def test_information_retrieval_rejects_unmatched_query_ids():
    with pytest.raises(SentforgeError, match="relevant document"):
        ours.InformationRetrievalEvaluator({"1": "q"}, {"d": "doc"}, {1: {"d"}})


# ---------------------------------------------------------------- binary classification


@pytest.mark.parametrize("kwargs", [{}, {"similarity_fn_names": ["cosine", "dot", "euclidean", "manhattan"]}])
def test_binary_classification_matches_sentence_transformers(kwargs):
    s1, s2, labels = mrpc_val()
    mine_model = FakeModel()
    mine = ours.BinaryClassificationEvaluator(s1, s2, labels, name="mrpc", **kwargs)
    theirs = st_eval.BinaryClassificationEvaluator(s1, s2, labels, name="mrpc", **kwargs)
    mine_metrics = mine(mine_model)
    assert_same_metrics(mine_metrics, theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric
    assert 0.5 < mine_metrics[mine.primary_metric] < 1.0
    assert_contract_kwargs(mine_model)


def test_binary_thresholds_with_ties_match_sentence_transformers():
    rng = np.random.default_rng(3)
    for _ in range(50):
        scores = rng.integers(0, 6, size=30).astype(np.float32) / 5
        labels = rng.integers(0, 2, size=30)
        for higher in (True, False):
            assert ours.BinaryClassificationEvaluator.find_best_acc_and_threshold(scores, labels, higher) == (
                st_eval.BinaryClassificationEvaluator.find_best_acc_and_threshold(scores, labels, higher)
            )
            assert ours.BinaryClassificationEvaluator.find_best_f1_and_threshold(scores, labels, higher) == (
                st_eval.BinaryClassificationEvaluator.find_best_f1_and_threshold(scores, labels, higher)
            )


# ---------------------------------------------------------------- triplets and sequences


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"similarity_fn_names": ["cosine", "dot", "euclidean", "manhattan"], "margin": 0.05},
        {"main_similarity_function": "euclidean", "margin": {"euclidean": 0.2}},
    ],
)
def test_triplet_matches_sentence_transformers(kwargs):
    anchors, positives, negatives = nli_triplets()
    mine_model = FakeModel()
    mine = ours.TripletEvaluator(anchors, positives, negatives, name="nli", **kwargs)
    theirs = st_eval.TripletEvaluator(anchors, positives, negatives, name="nli", **kwargs)
    mine_metrics = mine(mine_model)
    assert_same_metrics(mine_metrics, theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric
    assert mine.get_config_dict() == theirs.get_config_dict()
    assert 0.5 < mine_metrics[mine.primary_metric] < 1.0
    assert_contract_kwargs(mine_model)


def test_sequential_matches_sentence_transformers():
    s1, s2, scores = stsb_dev(100)
    anchors, positives, negatives = nli_triplets(50)

    def build(lib, seq):
        return seq(
            [lib.EmbeddingSimilarityEvaluator(s1, s2, scores, name="sts"),
             lib.TripletEvaluator(anchors, positives, negatives, name="nli")],
            main_score_function=lambda values: sum(values) / len(values),
        )

    mine = build(ours, ours.SequentialEvaluator)
    theirs = build(st_eval, STSequentialEvaluator)
    assert_same_metrics(mine(FakeModel()), theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric == "sequential_score"


def test_sequential_collects_nan_reasons():
    s1, s2, _ = stsb_dev(10)
    seq = ours.SequentialEvaluator([ours.EmbeddingSimilarityEvaluator(s1, s2, [3.0] * 10, name="flat")])
    seq(FakeModel())
    assert set(seq.nan_reasons) == {"flat_pearson_cosine", "flat_spearman_cosine"}


# ---------------------------------------------------------------- a real model


@pytest.mark.integration
def test_real_minilm_through_both_libraries(minilm_path):
    """The packaged all-MiniLM-L6-v2: loaded by sentence-transformers and evaluated by both libraries
    (same metrics within 1e-6), and loaded by sentforge (same metrics within 1e-4: only the
    embeddings' float rounding may differ)."""
    from sentence_transformers import SentenceTransformer as STModel

    from sentforge import SentenceTransformer

    st_model = STModel(minilm_path, device="cpu")
    our_model = SentenceTransformer(minilm_path, device="cpu")
    s1, s2, scores = stsb_dev(80)
    queries, corpus, relevant = scifact_slice(n_queries=6, n_other_docs=12)
    builders = [
        lambda lib: lib.EmbeddingSimilarityEvaluator(s1, s2, scores, name="sts-dev"),
        lambda lib: lib.InformationRetrievalEvaluator(queries, corpus, relevant, corpus_chunk_size=10),
    ]
    for build in builders:
        reference = build(st_eval)
        theirs = reference(st_model)
        assert theirs[reference.primary_metric] > 0.5  # a trained model, not noise
        assert_same_metrics(build(ours)(st_model), theirs)
        on_our_model = build(ours)(our_model)
        assert list(on_our_model) == list(theirs)
        assert np.allclose(list(on_our_model.values()), list(theirs.values()), atol=1e-4)
