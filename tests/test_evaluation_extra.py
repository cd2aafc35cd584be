"""The less common evaluators (MSE, translation, paraphrase mining, reranking, label accuracy)
against sentence-transformers' on the same fake embeddings and real data; metrics within 1e-6."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from sentforge import evaluation as ours

st_eval = pytest.importorskip("sentence_transformers.sentence_transformer.evaluation")

try:  # the fake model and data readers live next to the main evaluator tests
    from test_evaluators import FakeModel, assert_contract_kwargs, assert_same_metrics, scifact_slice, stsb_dev
except ImportError:  # tests/ imported as a package
    from tests.test_evaluators import FakeModel, assert_contract_kwargs, assert_same_metrics, scifact_slice, stsb_dev


def test_mse_matches_sentence_transformers():
    s1, s2, _ = stsb_dev(150)
    teacher, student = FakeModel(), FakeModel()
    mine = ours.MSEEvaluator(s1, s2, teacher_model=teacher, name="distill")
    theirs = st_eval.MSEEvaluator(s1, s2, teacher_model=FakeModel(), name="distill")
    metrics = mine(student)
    assert_same_metrics(metrics, theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric == "distill_negative_mse"
    assert metrics["distill_negative_mse"] < 0  # paraphrases are not identical texts
    assert_contract_kwargs(student)


def test_translation_matches_sentence_transformers():
    s1, s2, _ = stsb_dev(200)
    source, target = list(s1), list(s2)
    target[5] = target[6]  # a duplicate target text: retrieving either copy counts as correct
    mine = ours.TranslationEvaluator(source, target, name="para")
    theirs = st_eval.TranslationEvaluator(source, target, name="para")
    metrics = mine(FakeModel())
    assert_same_metrics(metrics, theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric
    assert 0.2 < metrics["para_mean_accuracy"] < 1.0


@pytest.mark.parametrize("closure, max_pairs", [(False, 500000), (True, 150)])
def test_paraphrase_mining_matches_sentence_transformers(closure, max_pairs):
    s1, s2, scores = stsb_dev(150)
    sentences = {f"a{i}": s for i, s in enumerate(s1)} | {f"b{i}": s for i, s in enumerate(s2)}
    duplicates = [(f"a{i}", f"b{i}") for i, score in enumerate(scores) if score >= 4.0]
    duplicates += [(f"b{i}", f"a{i + 1}") for i in range(0, 20, 4)]  # chains for the transitive closure
    kwargs = dict(duplicates_list=duplicates, add_transitive_closure=closure, max_pairs=max_pairs, top_k=5,
                  query_chunk_size=64, corpus_chunk_size=100, name="stsb")
    mine = ours.ParaphraseMiningEvaluator(sentences, **kwargs)
    theirs = st_eval.ParaphraseMiningEvaluator(sentences, **kwargs)
    assert mine.total_num_duplicates == theirs.total_num_duplicates
    metrics = mine(FakeModel())
    assert_same_metrics(metrics, theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric
    assert mine.get_config_dict() == theirs.get_config_dict()
    assert metrics["stsb_average_precision"] > 0.01  # random pairs would give about 0.001


@pytest.mark.parametrize("batched", [True, False])
def test_reranking_matches_sentence_transformers(batched):
    queries, corpus, relevant = scifact_slice()
    others = [text for cid, text in corpus.items() if not any(cid in docs for docs in relevant.values())]
    samples = [
        {"query": queries[qid], "positive": [corpus[cid] for cid in sorted(relevant[qid])],
         "negative": others[i : i + 12]}
        for i, qid in enumerate(sorted(queries))
    ]
    samples.append({"query": "no positives", "positive": [], "negative": others[:3]})  # skipped by both
    mine = ours.RerankingEvaluator(samples, at_k=5, name="scifact", use_batched_encoding=batched)
    theirs = st_eval.RerankingEvaluator(samples, at_k=5, name="scifact", use_batched_encoding=batched)
    metrics = mine(FakeModel())
    assert_same_metrics(metrics, theirs(FakeModel()))
    assert mine.primary_metric == theirs.primary_metric == "scifact_ndcg@5"
    assert 0.1 < metrics["scifact_map"] < 1.0


class Example:
    def __init__(self, texts, label):
        self.texts, self.label = texts, label


class TokenizingModel(FakeModel):
    """Adds the ``tokenize`` of the model contract: one id per character, padded with 0."""

    def eval(self):
        return self

    def tokenize(self, texts):
        ids = torch.zeros(len(texts), max(map(len, texts)), dtype=torch.long)
        for row, text in enumerate(texts):
            ids[row, : len(text)] = torch.tensor([ord(c) % 97 + 1 for c in text])
        return {"input_ids": ids, "attention_mask": (ids > 0).long()}


def length_classifier(features, labels=None):
    """Predicts class 1 when the first text is longer than the second, else class 0."""
    lengths = [f["attention_mask"].sum(1).float() for f in features]
    logits = torch.stack([lengths[1] - lengths[0], lengths[0] - lengths[1]], dim=1)
    return None, logits


def test_label_accuracy_counts_correct_argmax_predictions():
    s1, s2, scores = stsb_dev(90)
    examples = [Example([a, b], int(score >= 2.5)) for a, b, score in zip(s1, s2, scores)]
    expected = sum((len(a) > len(b)) == bool(ex.label) for ex, a, b in zip(examples, s1, s2)) / len(examples)
    evaluator = ours.LabelAccuracyEvaluator(DataLoader(examples, batch_size=16), name="nli",
                                            softmax_model=length_classifier)
    metrics = evaluator(TokenizingModel())
    assert metrics == {"nli_accuracy": pytest.approx(expected, abs=1e-12)}
    assert evaluator.primary_metric == "nli_accuracy"
    assert 0 < expected < 1


def _builders():
    """name -> function(library's evaluation module) -> evaluator, over small real data."""
    s1, s2, scores = stsb_dev(60)
    queries, corpus, relevant = scifact_slice()
    labels = [int(score >= 2.5) for score in scores]
    samples = [{"query": s1[i], "positive": [s2[i]], "negative": s2[i + 1 : i + 4]} for i in range(20)]
    sentences = {f"{side}{i}": s for side, texts in (("a", s1), ("b", s2)) for i, s in enumerate(texts)}
    return {
        "retrieval": lambda lib: lib.InformationRetrievalEvaluator(queries, corpus, relevant, name="sf"),
        "binary": lambda lib: lib.BinaryClassificationEvaluator(
            s1, s2, labels, name="b", similarity_fn_names=["cosine", "manhattan"]),
        "triplet": lambda lib: lib.TripletEvaluator(s1[:-1], s2[:-1], s2[1:], similarity_fn_names=["dot", "cosine"]),
        "mse": lambda lib: lib.MSEEvaluator(s1, s2, teacher_model=FakeModel(), name="m"),
        "translation": lambda lib: lib.TranslationEvaluator(s1, s2),
        "paraphrase": lambda lib: lib.ParaphraseMiningEvaluator(
            sentences, duplicates_list=[(f"a{i}", f"b{i}") for i in range(0, 60, 3)], name="p"),
        "reranking": lambda lib: lib.RerankingEvaluator(samples, at_k=3, name="r"),
    }


EVALUATOR_KINDS = ["retrieval", "binary", "triplet", "mse", "translation", "paraphrase", "reranking"]


def test_every_builder_is_parametrized():
    assert sorted(_builders()) == sorted(EVALUATOR_KINDS)


@pytest.mark.parametrize("kind", EVALUATOR_KINDS)  # names only: the data is read inside the test (skips if absent)
def test_csv_files_match_sentence_transformers(kind, tmp_path):
    build = _builders()[kind]
    for lib, folder in ((ours, tmp_path / "ours"), (st_eval, tmp_path / "st")):
        evaluator = build(lib)
        evaluator(FakeModel(), output_path=str(folder), epoch=0, steps=5)
        evaluator(FakeModel(), output_path=str(folder), epoch=1, steps=10)
    names = sorted(p.name for p in (tmp_path / "st").iterdir())
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == names and len(names) == 1
    mine = list(csv.reader(open(tmp_path / "ours" / names[0])))
    theirs = list(csv.reader(open(tmp_path / "st" / names[0])))
    assert mine[0] == theirs[0] and len(mine) == len(theirs) == 3
    assert np.allclose(np.array(mine[1:], float), np.array(theirs[1:], float), atol=1e-6)


def test_scoring_functions_match_scikit_learn_with_ties():
    metrics = pytest.importorskip("sklearn.metrics")
    from sentforge.evaluation.scoring import average_precision, matthews_corrcoef, ndcg_at_k

    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(2, 30))
        labels = rng.integers(0, 2, n)
        labels[0], labels[1] = 0, 1  # both classes present
        scores = rng.integers(0, 5, n) / 4 if trial % 2 else rng.standard_normal(n)  # odd trials: many ties
        predictions = rng.integers(0, 2, n)
        assert average_precision(labels, scores) == pytest.approx(metrics.average_precision_score(labels, scores))
        assert ndcg_at_k(labels, scores, 5) == pytest.approx(metrics.ndcg_score([labels], [scores], k=5))
        assert matthews_corrcoef(labels, predictions) == pytest.approx(metrics.matthews_corrcoef(labels, predictions))
