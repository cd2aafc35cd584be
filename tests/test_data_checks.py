"""The data doctor: each finding fires on data built to trigger it, and stays quiet on clean data.

The base model enters through fake ``pair_similarity`` / ``count_tokens`` callables whose values
are set per pair, so each test knows exactly what the doctor should see.
"""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest
from scipy.stats import spearmanr

from sentforge.data.checks import diagnose
from sentforge.data.report import DoctorReport, Finding
from sentforge.data.roles import infer_roles
from sentforge.errors import SentforgeError


def pairs(n: int, start: int = 0, labels=None) -> datasets.Dataset:
    columns = {"sentence1": [f"question number {i}" for i in range(start, start + n)],
               "sentence2": [f"answer number {i}" for i in range(start, start + n)]}
    if labels is not None:
        columns["score"] = list(labels)
    return datasets.Dataset.from_dict(columns)


def similarity_table(data: datasets.Dataset, sims) -> callable:
    """A fake base model: returns the given similarity for each (sentence1, sentence2) pair."""
    lookup = {(a, b): float(s) for a, b, s in zip(data["sentence1"], data["sentence2"], sims)}

    def pair_similarity(first: list[str], second: list[str]) -> np.ndarray:
        return np.array([lookup[(a, b)] for a, b in zip(first, second)])

    return pair_similarity


def word_count_tokens(texts: list[str]) -> list[int]:
    return [len(text.split()) + 2 for text in texts]  # + [CLS] and [SEP]


# --- clean data: nothing to report --------------------------------------------------------------


def test_clean_scored_pairs_give_no_findings():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 300)
    train = pairs(300, labels=scores)
    eval_scores = rng.uniform(0, 1, 60)
    evaluation = pairs(60, start=1000, labels=eval_scores)
    both = datasets.concatenate_datasets([train, evaluation])
    sims = 0.2 + 0.6 * np.concatenate([scores, eval_scores]) + rng.normal(0, 0.05, 360)
    report = diagnose(
        train, evaluation, label_range=(0.0, 1.0), max_seq_length=16, count_tokens=word_count_tokens,
        pair_similarity=similarity_table(both, sims), batch_size=16,
    )
    assert report.findings == []
    assert report.ok and not report.evaluate_pairs_by_retrieval


def test_clean_pairs_for_in_batch_negatives_give_no_findings():
    report = diagnose(pairs(500), pairs(100, start=5000), batch_size=64, epochs=3)
    assert report.findings == []


# --- seed 000: evaluation pairs that are all positive --------------------------------------------


def test_constant_eval_labels_switch_evaluation_to_retrieval():
    train = pairs(71)
    evaluation = pairs(20, start=500, labels=[1.0] * 20)
    report = diagnose(train, evaluation, batch_size=16)
    finding = report.get("eval-labels-constant")
    assert finding is not None and finding.severity == "warning" and finding.value == 1.0
    assert "NaN" in finding.message and "retrieval" in finding.message
    assert report.evaluate_pairs_by_retrieval
    assert report.get("small-dataset").value == 71


# --- seed 003: NLI classes (0 = entailment) used as similarity scores ----------------------------


def nli_shaped(n: int = 600, shift: float = 0.3, noise: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = np.array([0.0, 0.5, 1.0] * (n // 3))
    sims = 0.8 - shift * labels / 1.0 + rng.normal(0, noise, n)  # entailment (0) is most similar
    data = pairs(n, labels=labels)
    return data, similarity_table(data, sims), labels, sims


def test_nli_labels_with_entailment_most_similar_stop_the_run():
    data, similarity, labels, sims = nli_shaped()
    report = diagnose(data, pair_similarity=similarity, batch_size=16)
    nli = report.get("nli-labels")
    assert nli.severity == "warning"
    assert nli.value == pytest.approx(sims[labels == 0].mean() - sims[labels == 1].mean(), abs=0.03)
    inverted = report.get("labels-inverted")
    assert inverted.severity == "error" and inverted.value < -0.2
    sample_rho = spearmanr(labels, sims).statistic
    assert inverted.value == pytest.approx(sample_rho, abs=0.1)  # a 500-row sample of 600
    assert not report.ok
    with pytest.raises(SentforgeError, match="labels run against the base model.*1 - score"):
        report.raise_for_errors()


def test_weakly_inverted_nli_labels_still_stop_the_run():
    data, similarity, labels, sims = nli_shaped(shift=0.05, noise=0.3, seed=3)
    rho = spearmanr(labels, sims).statistic
    assert -0.2 < rho < 0  # too weak for the general threshold on its own
    report = diagnose(data, pair_similarity=similarity, batch_size=16, sample_size=1000)
    assert report.get("labels-inverted").severity == "error"
    assert report.get("nli-labels") is not None


def test_allow_inverted_downgrades_to_a_warning():
    data, similarity, _, _ = nli_shaped()
    report = diagnose(data, pair_similarity=similarity, batch_size=16, allow_inverted=True)
    assert report.get("labels-inverted").severity == "warning" and report.ok


def test_three_level_similarity_in_the_right_direction_is_fine():
    data, _, labels, _ = nli_shaped()
    rising = 0.3 + 0.5 * labels  # label 1 pairs are the most similar: a genuine similarity score
    report = diagnose(data, pair_similarity=similarity_table(data, rising), batch_size=16)
    assert report.get("nli-labels") is None and report.get("labels-inverted") is None


def test_zero_one_two_labels_are_flagged_without_a_model():
    data = pairs(150, labels=[0, 1, 2] * 50)
    report = diagnose(data, roles=infer_roles(data), batch_size=16)
    assert report.get("nli-labels").severity == "warning"
    assert "0/1/2" in report.get("nli-labels").message
    # with a model that agrees (label 2 pairs most similar) it is a 0-2 similarity scale, not NLI
    agreeing = similarity_table(data, [0.2, 0.5, 0.8] * 50)
    assert diagnose(data, pair_similarity=agreeing, batch_size=16).get("nli-labels") is None


def test_inverted_continuous_labels_and_seeded_sampling():
    rng = np.random.default_rng(1)
    sims = rng.uniform(0, 1, 400)
    data = pairs(400, labels=1.0 - sims)
    similarity = similarity_table(data, sims)
    full = diagnose(data, pair_similarity=similarity, batch_size=16, sample_size=400)
    assert full.get("labels-inverted").value == pytest.approx(-1.0)
    sampled = [diagnose(data, pair_similarity=similarity, batch_size=16, sample_size=50, seed=s) for s in (7, 7)]
    assert sampled[0].findings == sampled[1].findings


# --- data content ------------------------------------------------------------------------------


def test_exact_duplicates_are_counted():
    base = pairs(100)
    data = datasets.concatenate_datasets([base, base.select([3, 4, 5, 3, 50])])
    finding = diagnose(data, batch_size=16).get("duplicate-rows")
    assert finding.value == 5 and finding.severity == "warning"
    assert "rows 101, 102, 103, 104, 105" in finding.message


def test_leakage_percentage_is_exact():
    train = pairs(100)
    evaluation = datasets.Dataset.from_dict({
        "sentence1": ["question number 1", "question number 2", "new q 1", "new q 2", "new q 3"],
        "sentence2": ["answer number 7", "new a 1", "new a 2", "new a 3", "new a 4"],
    })
    finding = diagnose(train, evaluation, batch_size=16).get("eval-leakage")
    assert finding.value == pytest.approx(30.0)  # 3 of 10 distinct eval texts occur in training
    assert "3 of 10" in finding.message and finding.dataset == "train+eval"


def test_truncated_share_and_longest_text():
    data = pairs(20)
    long_text = " ".join(["word"] * 20)
    data = data.map(lambda row, i: {"sentence1": long_text if i < 4 else row["sentence1"]}, with_indices=True)
    finding = diagnose(data, max_seq_length=10, count_tokens=word_count_tokens, batch_size=8).get("truncated-texts")
    assert finding.value == pytest.approx(10.0)  # 4 of 40 texts
    assert "longest has 22 tokens" in finding.message and finding.severity == "warning"
    untouched = diagnose(data, max_seq_length=32, count_tokens=word_count_tokens, batch_size=8)
    assert untouched.get("truncated-texts") is None


def test_empty_texts_and_missing_labels_are_errors_with_rows():
    data = datasets.Dataset.from_dict({
        "sentence1": ["a", "", "c", "d", "   ", "f", None] + [f"x{i}" for i in range(100)],
        "sentence2": [f"y{i}" for i in range(107)],
        "score": [0.1, 0.2, None, 0.4, 0.5, float("nan"), 0.7] + [0.5] * 100,
    })
    report = diagnose(data, batch_size=16)
    empty = report.get("empty-text")
    assert empty.severity == "error" and empty.value == 3 and "rows 2, 5, 7" in empty.message
    missing = report.get("nan-label")
    assert missing.value == 2 and "rows 3, 6" in missing.message


def test_labels_outside_the_loss_range():
    data = pairs(120, labels=[0.0, 2.5, 5.0, 0.4] * 30)
    finding = diagnose(data, label_range=(0.0, 1.0), batch_size=16).get("label-out-of-range")
    assert finding.severity == "error" and finding.value == 60
    assert "0 to 5" in finding.message
    assert diagnose(pairs(120, labels=[0.0, 0.5, 1.0] * 40), label_range=(0.0, 1.0)).get("label-out-of-range") is None


def test_constant_training_labels_for_a_label_loss():
    data = pairs(150, labels=[1.0] * 150)
    report = diagnose(data, in_batch_negatives=False, batch_size=16)
    assert report.get("train-labels-constant").value == 1.0


# --- size and schedule -------------------------------------------------------------------------


def test_fewer_rows_than_a_batch_for_in_batch_negatives():
    report = diagnose(pairs(10), batch_size=32)
    finding = report.get("too-few-rows-for-batch")
    assert finding.severity == "error" and finding.value == 10 and "at most 5" in finding.fix
    binary = pairs(10, labels=[0, 1] * 5)
    binary_report = diagnose(binary, batch_size=32)
    assert binary_report.get("too-few-rows-for-batch") is None
    assert binary_report.get("small-dataset").severity == "warning"


def test_many_epochs_on_small_data_without_evaluation():
    data = pairs(1000)
    finding = diagnose(data, epochs=30, batch_size=32).get("many-epochs-no-eval")
    assert finding.severity == "warning" and finding.value == 30
    assert diagnose(data, epochs=30, has_evaluation=True).get("many-epochs-no-eval") is None
    assert diagnose(pairs(2500), epochs=30).get("many-epochs-no-eval") is None
    assert diagnose(data, epochs=3).get("many-epochs-no-eval") is None


# --- the report --------------------------------------------------------------------------------


def test_report_renderings():
    report = DoctorReport([
        Finding("x-info", "info", "just so you know", 3, "nothing"),
        Finding("x-error", "error", "bad | thing", float("nan"), "fix it", "eval"),
        Finding("x-warning", "warning", "hmm", 0.12345, "look"),
    ])
    assert report.codes() == ["x-error", "x-warning", "x-info"]
    assert [len(report.errors), len(report.warnings), len(report.infos)] == [1, 1, 1]
    as_dict = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert as_dict["findings"][0]["value"] is None and as_dict["errors"] == 1
    markdown = report.to_markdown().splitlines()
    assert len(markdown) == 2 + 3 and "bad \\| thing" in markdown[2] and "0.1235" in markdown[3]
    text = report.format_text()
    assert text.startswith("Data doctor: 1 error, 1 warning, 1 note")
    assert "ERROR   x-error (eval): bad | thing" in text and "fix: fix it" in text
    assert DoctorReport([]).to_markdown().startswith("The data doctor found no problems")
    with pytest.raises(ValueError):
        Finding("x", "fatal", "m", 1, "f")


@pytest.mark.integration
def test_real_base_model_sees_nli_labels_as_inverted(minilm_path, shared_data):
    """Seed-003 mistake on real NLI pairs: entailment -> 0.0, contradiction -> 1.0, judged by MiniLM."""
    from sentence_transformers import SentenceTransformer

    from sentforge.data.shared_sets import load_nli_triplets

    model = SentenceTransformer(minilm_path, device="cpu")
    triplets = load_nli_triplets(root=shared_data).shuffle(seed=0).select(range(40))
    data = datasets.Dataset.from_dict({
        "sentence1": list(triplets["anchor"]) * 2,
        "sentence2": list(triplets["positive"]) + list(triplets["negative"]),
        "score": [0.0] * 40 + [1.0] * 40,
    })
    first = model.encode(list(data["sentence1"]), normalize_embeddings=True)
    second = model.encode(list(data["sentence2"]), normalize_embeddings=True)
    cosine = similarity_table(data, (first * second).sum(axis=1))  # the base model's cosine per pair

    report = diagnose(data, pair_similarity=cosine, in_batch_negatives=False, batch_size=16)
    assert report.get("labels-inverted").severity == "error"
    fixed = data.map(lambda row: {"score": 1.0 - row["score"]})
    assert diagnose(fixed, pair_similarity=cosine, in_batch_negatives=False).get("labels-inverted") is None
