"""The v2 ``model.fit`` API against sentence-transformers' own ``fit`` (the reference).

Both libraries train the same tiny model on the same InputExamples, seeded the same way. The model has
dropout switched off: sentforge's training forward draws dropout masks in another order than the
Hugging Face forward, so with dropout the same seed gives other masks and the weights drift apart by the
size of one update. With dropout off, what ``fit`` itself decides (data order, round robin, optimizer
groups, schedule, loss wiring, evaluation points) is compared, to 1e-5 (float32 summation order; the
training moves the weights by more than 1e-3, checked too).
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

import sentforge
from sentforge.errors import SentforgeError
from tiny_models import build_tiny_bert

st = pytest.importorskip("sentence_transformers")
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from sentence_transformers.sentence_transformer import losses as st_losses
    from sentence_transformers.sentence_transformer.evaluation import (
        EmbeddingSimilarityEvaluator as STEmbeddingSimilarityEvaluator,
    )

WEIGHT_TOLERANCE = 1e-5
MIN_TRAINING_CHANGE = 1e-3
WORDS = "the cat sat on mat dog ran in park car drove to stadium weather lovely today sunny outside river bank".split()


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """fit's default checkpoint folder is ./checkpoints/model, as in sentence-transformers: keep it in tmp."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    """A tiny random BERT with dropout off (see the module docstring)."""
    folder = build_tiny_bert(str(tmp_path_factory.mktemp("tiny_bert_no_dropout")))
    path = os.path.join(folder, "config.json")
    with open(path) as handle:
        config = json.load(handle)
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    with open(path, "w") as handle:
        json.dump(config, handle)
    return folder


def rows(count: int, texts: int, seed: int) -> list[tuple[list[str], float]]:
    rng = np.random.default_rng(seed)
    return [([" ".join(rng.choice(WORDS, 3 + t)) for t in range(texts)], float(rng.random())) for _ in range(count)]


def train(lib, model_dir: str, objectives, **fit_kwargs):
    """Build the model under a fixed seed, then ``fit`` it with ``objectives(model, lib)``."""
    torch.manual_seed(123)
    model = lib.SentenceTransformer(model_dir, device="cpu")
    fit_kwargs = {"epochs": 1, "warmup_steps": 2, "optimizer_params": {"lr": 1e-3}, "show_progress_bar": False,
                  **fit_kwargs}
    model.fit(train_objectives=objectives(model, lib), **fit_kwargs)
    return model


def lib_parts(lib):
    """(InputExample, losses) of a library."""
    if lib is st:
        return st.InputExample, st_losses
    return sentforge.InputExample, sentforge.losses


def scored_pairs(model, lib):
    example, losses = lib_parts(lib)
    data = [example(texts=texts, label=score) for texts, score in rows(40, 2, seed=0)]
    return [(DataLoader(data, shuffle=True, batch_size=8), losses.CosineSimilarityLoss(model))]


def unlabeled_pairs(model, lib):
    example, losses = lib_parts(lib)
    data = [example(texts=texts) for texts, _ in rows(40, 2, seed=1)]
    return [(DataLoader(data, shuffle=True, batch_size=8), losses.MultipleNegativesRankingLoss(model))]


def two_objectives(model, lib):
    example, losses = lib_parts(lib)
    triplets = [example(texts=texts) for texts, _ in rows(24, 3, seed=2)]
    return scored_pairs(model, lib) + [
        (DataLoader(triplets, shuffle=True, batch_size=8), losses.MultipleNegativesRankingLoss(model))
    ]


def encoder_weights(model) -> dict[str, torch.Tensor]:
    """The encoder's weights under one naming (sentence-transformers 6 calls the module `model`)."""
    return {k.replace("0.model.", "0.auto_model."): v.detach().clone() for k, v in model.state_dict().items()}


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    assert set(a) == set(b)
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.mark.parametrize("objectives", [scored_pairs, unlabeled_pairs, two_objectives],
                         ids=["CosineSimilarityLoss", "MultipleNegativesRankingLoss", "two-objectives-round-robin"])
def test_fit_trains_like_sentence_transformers(model_dir, objectives):
    start = encoder_weights(st.SentenceTransformer(model_dir, device="cpu"))
    reference = encoder_weights(train(st, model_dir, objectives))
    ours = encoder_weights(train(sentforge, model_dir, objectives))
    assert max_difference(reference, start) > MIN_TRAINING_CHANGE
    assert max_difference(ours, reference) < WEIGHT_TOLERANCE


def test_steps_per_epoch_and_cosine_schedule_match(model_dir):
    kwargs = {"steps_per_epoch": 3, "scheduler": "WarmupCosine", "weight_decay": 0.1}
    reference = encoder_weights(train(st, model_dir, scored_pairs, **kwargs))
    ours = encoder_weights(train(sentforge, model_dir, scored_pairs, **kwargs))
    full = encoder_weights(train(sentforge, model_dir, scored_pairs))
    assert max_difference(ours, reference) < WEIGHT_TOLERANCE
    assert max_difference(ours, full) > MIN_TRAINING_CHANGE / 10  # 3 of 5 steps: not the full epoch


def test_output_path_holds_a_model_sentence_transformers_loads(model_dir, tmp_path):
    torch.manual_seed(0)
    model = sentforge.SentenceTransformer(model_dir, device="cpu")
    data = sentforge.SentencesDataset([sentforge.InputExample(texts=t, label=s) for t, s in rows(16, 2, 3)], model)
    loss = sentforge.losses.CosineSimilarityLoss(model)
    model.fit([(DataLoader(data, shuffle=True, batch_size=4), loss)], epochs=1, warmup_steps=1,
              output_path=str(tmp_path / "out"), show_progress_bar=False)
    for name in ("modules.json", "config_sentence_transformers.json", "model.safetensors", "README.md"):
        assert (tmp_path / "out" / name).exists() or (tmp_path / "out" / "0_Transformer" / name).exists(), name
    loaded = st.SentenceTransformer(str(tmp_path / "out"), device="cpu")
    texts = ["the cat sat on the mat", "a dog ran in the park", "weather"]
    assert np.abs(loaded.encode(texts) - model.encode(texts)).max() < 1e-5


def test_evaluator_runs_like_sentence_transformers(model_dir, tmp_path):
    """Evaluations every 2 steps and at the epoch end, the callback's (score, epoch, steps) and the best
    model saved to output_path: the same as sentence-transformers (scores within 1e-5)."""
    dev = rows(12, 2, seed=9)
    calls: dict[str, list[tuple[float, float, int]]] = {"st": [], "ours": []}

    def fit_with_evaluator(lib, key):
        evaluator_class = (
            STEmbeddingSimilarityEvaluator if lib is st else sentforge.evaluation.EmbeddingSimilarityEvaluator
        )
        evaluator = evaluator_class([t[0] for t, _ in dev], [t[1] for t, _ in dev], [s for _, s in dev], name="dev")
        return train(lib, model_dir, scored_pairs, evaluator=evaluator, evaluation_steps=2,
                     output_path=str(tmp_path / key), callback=lambda *args: calls[key].append(args))

    fit_with_evaluator(st, "st")
    ours = fit_with_evaluator(sentforge, "ours")
    assert [(epoch, step) for _, epoch, step in calls["ours"]] == [(epoch, step) for _, epoch, step in calls["st"]]
    assert len(calls["ours"]) >= 3  # at least steps 2 and 4, and the end of the epoch (step 5)
    assert np.allclose([c[0] for c in calls["ours"]], [c[0] for c in calls["st"]], atol=1e-5)
    assert (tmp_path / "ours" / "modules.json").exists()
    assert (tmp_path / "ours" / "eval").is_dir()
    best = max(c[0] for c in calls["ours"])
    saved = sentforge.SentenceTransformer(str(tmp_path / "ours"), device="cpu")
    evaluator = sentforge.evaluation.EmbeddingSimilarityEvaluator(
        [t[0] for t, _ in dev], [t[1] for t, _ in dev], [s for _, s in dev], name="dev", write_csv=False)
    assert abs(evaluator(saved)[evaluator.primary_metric] - best) < 1e-5
    assert np.isfinite(ours.encode(["the cat"])).all()
    # Saved part way through training, the best model's card has the loss tag in both libraries.
    for key in ("st", "ours"):
        assert "loss:CosineSimilarityLoss" in (tmp_path / key / "README.md").read_text(encoding="utf-8"), key


def test_checkpoints_are_written_like_sentence_transformers(model_dir, tmp_path):
    def names(lib, folder):
        train(lib, model_dir, scored_pairs, checkpoint_path=str(folder), checkpoint_save_steps=2,
              checkpoint_save_total_limit=1)
        return sorted(n for n in os.listdir(folder) if n.startswith("checkpoint-"))

    ours = names(sentforge, tmp_path / "ours")
    assert ours and ours == names(st, tmp_path / "st")


def test_import_paths_of_the_v2_api():
    from sentforge import InputExample, SentencesDataset
    from sentforge.datasets import SentencesDataset as FromPackage
    from sentforge.datasets.SentencesDataset import SentencesDataset as FromOldModule
    from sentforge.readers import InputExample as FromReaders

    assert SentencesDataset is FromPackage is FromOldModule and InputExample is FromReaders
    example = InputExample(guid="1", texts=["a", "b"], label=0.5)
    assert str(example) == str(st.InputExample(guid="1", texts=["a", "b"], label=0.5))
    data = SentencesDataset([example], model=None)
    assert len(data) == 1 and data[0] is example


def test_bad_objectives_get_clear_errors(model_dir):
    model = sentforge.SentenceTransformer(model_dir, device="cpu")
    loss = sentforge.losses.MultipleNegativesRankingLoss(model)
    with pytest.raises(SentforgeError, match="InputExample"):
        model.fit([(DataLoader([{"text": "a"}], batch_size=1), loss)])
    mixed = [sentforge.InputExample(texts=["a", "b"]), sentforge.InputExample(texts=["a", "b", "c"])]
    with pytest.raises(ValueError, match="same number of texts"):
        model.fit([(DataLoader(mixed, batch_size=2), loss)])
    pairs = [sentforge.InputExample(texts=["the cat", "a dog"])] * 4
    with pytest.raises(ValueError, match="Unknown scheduler"):
        model.fit([(DataLoader(pairs, batch_size=2), loss)], scheduler="linear-ish")
    with pytest.raises(SentforgeError, match="pairs"):
        model.fit([DataLoader(pairs, batch_size=2)])


def test_smart_batching_collate_matches_sentence_transformers(model_dir):
    ours = sentforge.SentenceTransformer(model_dir, device="cpu")
    theirs = st.SentenceTransformer(model_dir, device="cpu")
    batch = [sentforge.InputExample(texts=["the cat sat", "a dog"], label=1.0),
             sentforge.InputExample(texts=["sunny weather today", "river bank"], label=0.0)]
    features, labels = ours.smart_batching_collate(batch)
    ref_features, ref_labels = theirs.smart_batching_collate(batch)
    assert torch.equal(labels, ref_labels)
    for mine, reference in zip(features, ref_features):
        assert torch.equal(mine["input_ids"], reference["input_ids"])
        assert torch.equal(mine["attention_mask"], reference["attention_mask"])
