"""CrossEncoder.fit, the pre-v4 training API: trains, evaluates, saves, and matches sentence-transformers' fit."""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest
import sentence_transformers as st
import sentence_transformers.cross_encoder.evaluation
import sentence_transformers.cross_encoder.trainer
import torch
from torch import nn
from torch.utils.data import DataLoader

import sentforge.cross_encoder.trainer
from cross_encoder_tiny import PAIRS, build_tiny_cross_encoder
from sentforge import InputExample, SentforgeError
from sentforge.cross_encoder import CrossEncoder
from sentforge.cross_encoder.evaluation import CrossEncoderClassificationEvaluator, CrossEncoderRerankingEvaluator

IDENTITY = nn.Identity()
NEGATIVES = ["zero one two", "seven eight", "nine ten zero"]  # unlike every positive, so the pairs are learnable
FIT = dict(warmup_steps=2, optimizer_params={"lr": 5e-3}, show_progress_bar=False)


@pytest.fixture(scope="module")
def ce_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("fit_ce")), dropout=0.0)


@pytest.fixture(scope="module")
def ce3_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("fit_ce3")), num_labels=3, dropout=0.0)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # fit's trainer writes step evaluations under ./checkpoints/model, as in ST


def _examples(example_cls=InputExample) -> list:
    rows = []
    for i, (query, positive) in enumerate(PAIRS * 2):
        rows += [example_cls(texts=[query, positive], label=1), example_cls(texts=[query, NEGATIVES[i % 3]], label=0)]
    return rows


def _separation(model, examples) -> float:
    logits = model.predict([e.texts for e in examples], activation_fn=IDENTITY)
    labels = np.array([e.label for e in examples])
    return float(logits[labels == 1].mean() - logits[labels == 0].mean())


def _bce(model, examples) -> float:
    logits = model.predict([e.texts for e in examples], activation_fn=IDENTITY, convert_to_tensor=True)
    labels = torch.tensor([float(e.label) for e in examples])
    return nn.functional.binary_cross_entropy_with_logits(logits.view(-1), labels).item()


def _reranking_evaluator() -> CrossEncoderRerankingEvaluator:
    docs = [d for _, d in PAIRS]
    samples = [{"query": q, "positive": [d], "negative": [x for x in docs if x != d]} for q, d in PAIRS]
    return CrossEncoderRerankingEvaluator(samples, name="dev")


def test_fit_trains_and_saves_a_folder_both_libraries_load(ce_dir, tmp_path):
    examples = _examples()
    model = CrossEncoder(ce_dir, device="cpu")
    pairs = [e.texts for e in examples]
    before_scores, before_sep, before_loss = model.predict(pairs), _separation(model, examples), _bce(model, examples)
    torch.manual_seed(0)
    model.fit(train_dataloader=DataLoader(examples, shuffle=True, batch_size=4), epochs=3,
              output_path=str(tmp_path / "out"), **FIT)
    after = model.predict(pairs)
    assert np.abs(after - before_scores).max() > 1e-2
    assert _separation(model, examples) > before_sep + 1.0 and _bce(model, examples) < before_loss
    ours = CrossEncoder(str(tmp_path / "out"), device="cpu")
    theirs = st.CrossEncoder(str(tmp_path / "out"), device="cpu")
    np.testing.assert_allclose(ours.predict(pairs), after, atol=1e-5)
    np.testing.assert_allclose(theirs.predict(pairs), after, atol=1e-5)
    assert "loss:BinaryCrossEntropyLoss" in (tmp_path / "out" / "README.md").read_text()
    assert not (tmp_path / "out" / "eval").exists()


def test_evaluator_runs_every_n_steps_and_each_epoch_and_the_best_model_is_saved(ce_dir, tmp_path):
    model = CrossEncoder(ce_dir, device="cpu")
    evaluator = _reranking_evaluator()
    calls: list[tuple[float, float, int]] = []
    torch.manual_seed(0)
    model.fit(DataLoader(_examples(), shuffle=True, batch_size=5), evaluator=evaluator, epochs=2, evaluation_steps=2,
              output_path=str(tmp_path / "best"), save_best_model=True, callback=lambda *a: calls.append(a), **FIT)
    # 24 examples in batches of 5: 5 steps an epoch; every 2 steps, each epoch end, and the last step
    assert [(epoch, steps) for _, epoch, steps in calls] == [
        (0.4, 2), (0.8, 4), (1.0, 5), (1.2, 6), (1.6, 8), (2.0, 10), (2.0, 10)]
    best = max(score for score, _, _ in calls)
    saved = CrossEncoder(str(tmp_path / "best"), device="cpu")
    assert evaluator(saved)["dev_ndcg@10"] == pytest.approx(best, abs=1e-6)
    pairs = [e.texts for e in _examples()]  # only a strictly better score replaces it: the later ties did not
    assert calls[-1][0] == pytest.approx(best) and np.abs(saved.predict(pairs) - model.predict(pairs)).max() > 1e-4
    with open(tmp_path / "best" / "eval" / "CrossEncoderRerankingEvaluator_dev_results_@10.csv") as handle:
        assert [row["steps"] for row in csv.DictReader(handle)] == ["5", "10"]  # epoch ends write to output_path
    # The best model saved part way has the run's card, with the loss tag, as sentence-transformers writes it.
    card = (tmp_path / "best" / "README.md").read_text(encoding="utf-8")
    assert "loss:BinaryCrossEntropyLoss" in card


def test_a_plain_callable_evaluator_returning_a_float_is_accepted(ce_dir, tmp_path):
    """The old CE* evaluators' protocol: ``evaluator(model, output_path, epoch, steps) -> float``."""
    examples = _examples()

    def accuracy(model, output_path=None, epoch=-1, steps=-1) -> float:
        scores = model.predict([e.texts for e in examples])
        return float(np.mean((scores > 0.5) == np.array([e.label for e in examples])))

    model = CrossEncoder(ce_dir, device="cpu")
    scores: list[float] = []
    model.fit(DataLoader(examples, shuffle=True, batch_size=8), evaluator=accuracy, epochs=2,
              output_path=str(tmp_path / "acc"), callback=lambda score, epoch, steps: scores.append(score), **FIT)
    assert len(scores) == 2
    assert accuracy(CrossEncoder(str(tmp_path / "acc"), device="cpu")) == max(scores)


def test_three_labels_train_with_cross_entropy(ce3_dir, tmp_path):
    examples = []  # class by the second text: 0 a negative, 1 the query itself, 2 its positive
    for i, (query, positive) in enumerate(PAIRS * 2):
        examples += [InputExample(texts=[query, NEGATIVES[i % 3]], label=0),
                     InputExample(texts=[query, query], label=1), InputExample(texts=[query, positive], label=2)]
    model = CrossEncoder(ce3_dir, device="cpu")
    pairs, labels = [e.texts for e in examples], torch.tensor([e.label for e in examples])

    def loss() -> float:
        logits = model.predict(pairs, activation_fn=IDENTITY, convert_to_tensor=True)
        return nn.functional.cross_entropy(logits, labels).item()

    before = loss()
    model.fit(DataLoader(examples, shuffle=True, batch_size=6), epochs=3, output_path=str(tmp_path / "ce3"), **FIT)
    assert loss() < before
    assert "loss:CrossEntropyLoss" in (tmp_path / "ce3" / "README.md").read_text()
    assert st.CrossEncoder(str(tmp_path / "ce3"), device="cpu").predict(pairs[:2]).shape == (2, 3)


def test_a_custom_torch_loss_trains(ce_dir):
    examples = [InputExample(texts=e.texts, label=0.9 if e.label else 0.1) for e in _examples()]
    model = CrossEncoder(ce_dir, device="cpu")
    pairs, labels = [e.texts for e in examples], np.array([e.label for e in examples])

    def mse() -> float:
        return float(np.mean((model.predict(pairs, activation_fn=nn.Sigmoid()) - labels) ** 2))

    before = mse()
    model.fit(DataLoader(examples, shuffle=True, batch_size=4), epochs=3, loss_fct=nn.MSELoss(),
              activation_fct=nn.Sigmoid(), evaluation_steps=2, **FIT)  # steps without an evaluator: ignored
    assert mse() < before


def test_bad_input_gives_one_clear_error(ce_dir, tmp_path):
    model = CrossEncoder(ce_dir, device="cpu")
    tuples = DataLoader([(q, d, 1) for q, d in PAIRS], batch_size=2)
    with pytest.raises(SentforgeError, match=r"InputExample\(texts=\[query, document\], label=\.\.\.\) items, but "
                                             r"the DataLoader holds tuple"):
        model.fit(tuples, output_path=str(tmp_path / "never"), show_progress_bar=False)
    with pytest.raises(SentforgeError, match="takes a DataLoader of InputExample, got list"):
        model.fit(_examples(), show_progress_bar=False)
    unlabeled = DataLoader([InputExample(texts=[q, d]) for q, d in PAIRS], batch_size=2)
    with pytest.raises(SentforgeError, match="needs labels"):
        model.fit(unlabeled, show_progress_bar=False)
    triples = DataLoader([InputExample(texts=[q, d, d], label=1) for q, d in PAIRS], batch_size=2)
    with pytest.raises(SentforgeError, match="trains on text pairs"):
        model.fit(triples, show_progress_bar=False)
    assert not (tmp_path / "never").exists() and not (tmp_path / "checkpoints").exists()


def _fit_recorded(monkeypatch, library, model, **kwargs) -> tuple[object, list[tuple]]:
    """Run ``model.fit`` with the library's CrossEncoderTrainer class recording its instance."""
    module = sentforge.cross_encoder.trainer if library == "sentforge" else st.cross_encoder.trainer
    made = []

    class Recording(module.CrossEncoderTrainer):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            made.append(self)

    calls: list[tuple] = []
    with monkeypatch.context() as patch:
        patch.setattr(module, "CrossEncoderTrainer", Recording)
        torch.manual_seed(0)  # the DataLoader's shuffle, read once by fit in both libraries
        model.fit(callback=lambda *a: calls.append(a), **kwargs)
    return made[0], calls


def test_matches_sentence_transformers_fit(ce_dir, tmp_path, monkeypatch):
    """Same weights, data and seed: same loss, optimizer, schedule, steps, evaluations, files and final scores."""
    examples = {"sentforge": _examples(), "st": _examples(st.InputExample)}
    pairs = [e.texts for e in examples["sentforge"]]
    evaluators = {
        "sentforge": CrossEncoderClassificationEvaluator(pairs[:8], [e.label for e in examples["sentforge"][:8]],
                                                         name="dev"),
        "st": st.cross_encoder.evaluation.CrossEncoderClassificationEvaluator(
            pairs[:8], [e.label for e in examples["st"][:8]], name="dev"),
    }
    runs, models = {}, {}
    for library, cls in (("sentforge", CrossEncoder), ("st", st.CrossEncoder)):
        (tmp_path / library).mkdir()
        monkeypatch.chdir(tmp_path / library)
        models[library] = cls(ce_dir, device="cpu")
        runs[library] = _fit_recorded(
            monkeypatch, library, models[library], train_dataloader=DataLoader(examples[library], shuffle=True,
                                                                               batch_size=5),
            evaluator=evaluators[library], epochs=2, evaluation_steps=3, output_path="out", weight_decay=0.05, **FIT)
    (ours, our_calls), (theirs, their_calls) = runs["sentforge"], runs["st"]

    assert type(ours.loss).__name__ == type(theirs.loss).__name__ == "BinaryCrossEntropyLoss"
    assert ours.state.global_step == theirs.state.global_step == 10
    assert ours.args.train_batch_size == theirs.args.train_batch_size == 5
    assert (ours.args.eval_strategy, ours.args.eval_steps, ours.args.save_strategy, ours.args.max_grad_norm) == (
        theirs.args.eval_strategy, theirs.args.eval_steps, theirs.args.save_strategy, theirs.args.max_grad_norm)
    assert os.path.basename(ours.args.output_dir) == os.path.basename(theirs.args.output_dir) == "model"
    groups = [[(len(g["params"]), g["weight_decay"]) for g in t.optimizer.param_groups] for t in (ours, theirs)]
    assert groups[0] == groups[1] and groups[0][0][1] == 0.05 and groups[0][1][1] == 0.0
    schedules = [[lam(step) for step in range(12) for lam in t.lr_scheduler.lr_lambdas] for t in (ours, theirs)]
    assert schedules[0] == pytest.approx(schedules[1])  # WarmupLinear over len(examples) // batch_size * epochs
    train_loss = [[row["train_loss"] for row in t.state.log_history if "train_loss" in row] for t in (ours, theirs)]
    assert train_loss[0] == pytest.approx(train_loss[1], abs=1e-5)

    assert [c[1:] for c in our_calls] == [c[1:] for c in their_calls]  # (epoch, steps) of every evaluation
    assert [c[0] for c in our_calls] == pytest.approx([c[0] for c in their_calls], abs=1e-6)
    np.testing.assert_allclose(models["sentforge"].predict(pairs), models["st"].predict(pairs), atol=1e-5)
    for library in runs:  # both write: the best model, epoch-end CSVs under out/eval, step CSVs under the run dir
        found = {os.path.relpath(os.path.join(root, name), tmp_path / library)
                 for root, _, names in os.walk(tmp_path / library) for name in names if name.endswith(".csv")}
        assert found == {"out/eval/CrossEncoderClassificationEvaluator_dev_results.csv",
                         "checkpoints/model/eval/CrossEncoderClassificationEvaluator_dev_results.csv"}
        assert {"config.json", "model.safetensors"} <= set(os.listdir(tmp_path / library / "out"))
    saved = [st.CrossEncoder(str(tmp_path / library / "out"), device="cpu").predict(pairs) for library in runs]
    np.testing.assert_allclose(saved[0], saved[1], atol=1e-5)


def test_without_evaluator_sentforge_also_saves_the_final_model(ce_dir, tmp_path):
    """The one deliberate difference: sentence-transformers' fit saves nothing to output_path without an
    evaluator; sentforge saves the final model there (as both libraries' SentenceTransformer.fit do)."""
    theirs = st.CrossEncoder(ce_dir, device="cpu")
    torch.manual_seed(0)
    theirs.fit(DataLoader(_examples(st.InputExample), shuffle=True, batch_size=8), output_path="st_out", **FIT)
    assert not os.path.exists("st_out")
    ours = CrossEncoder(ce_dir, device="cpu")
    torch.manual_seed(0)
    ours.fit(DataLoader(_examples(), shuffle=True, batch_size=8), output_path="sf_out", **FIT)
    pairs = [e.texts for e in _examples()]
    np.testing.assert_allclose(CrossEncoder("sf_out", device="cpu").predict(pairs), theirs.predict(pairs), atol=1e-5)
