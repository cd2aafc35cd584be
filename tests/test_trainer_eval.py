"""Evaluation: a dict of eval datasets is scored with each dataset's own loss; model.evaluate runs an evaluator."""

from __future__ import annotations

import math
import os

import pytest
import torch
from datasets import Dataset

from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
from sentforge.errors import SentforgeError
from sentforge.evaluation import EmbeddingSimilarityEvaluator
from sentforge.losses import CosineSimilarityLoss, SoftmaxLoss

LEFT = ["the cat sat on the mat", "a dog ran in the park", "he drove a car", "the river bank is green",
        "she has a loan", "the weather is lovely today", "gold mining permit", "a big red tree"]
RIGHT = ["a cat sat", "the dog ran fast", "they drove to the stadium", "money in the bank",
         "the fish in the water", "it is sunny outside", "the coal miner has a claim", "a small blue car"]


@pytest.fixture()
def model(tiny_bert_dir) -> SentenceTransformer:
    torch.manual_seed(0)
    return SentenceTransformer(tiny_bert_dir, device="cpu")


def _datasets() -> dict[str, Dataset]:
    sts = Dataset.from_dict({"sentence1": LEFT, "sentence2": RIGHT, "score": [i / 7 for i in range(8)]})
    nli = Dataset.from_dict({"premise": RIGHT, "hypothesis": LEFT, "label": [i % 3 for i in range(8)]})
    return {"sts": sts, "nli": nli}


def _direct_loss(model: SentenceTransformer, loss: torch.nn.Module, data: Dataset, label: str) -> float:
    """The loss on the whole dataset as one batch, computed without the trainer."""
    columns = [c for c in data.column_names if c != label]
    features = [model.tokenize(data[c]) for c in columns]
    model.eval()
    with torch.no_grad():
        return float(loss(features, torch.tensor(data[label])))


def _trainer(model, tmp_path, **extra) -> tuple[SentenceTransformerTrainer, dict]:
    losses = {"sts": CosineSimilarityLoss(model), "nli": SoftmaxLoss(model, model.get_sentence_embedding_dimension(), 3)}
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=8, per_device_eval_batch_size=8,
        report_to=[], use_cpu=True, **extra,
    )
    data = _datasets()
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, eval_dataset=data, loss=losses)
    return trainer, losses


def test_dict_eval_dataset_uses_each_datasets_own_loss(model, tmp_path):
    trainer, losses = _trainer(model, tmp_path)
    metrics = trainer.evaluate()
    data = _datasets()
    expected_sts = _direct_loss(model, losses["sts"], data["sts"], "score")
    expected_nli = _direct_loss(model, losses["nli"], data["nli"], "label")
    assert metrics["eval_sts_loss"] == pytest.approx(expected_sts, rel=1e-4)
    assert metrics["eval_nli_loss"] == pytest.approx(expected_nli, rel=1e-4)
    assert abs(expected_sts - expected_nli) > 1e-3  # the two losses really differ, so a swap would show

    # A dict passed to evaluate() gets the same per-dataset treatment, under the given prefix.
    explicit = trainer.evaluate({"nli": data["nli"]}, metric_key_prefix="test")
    assert explicit["test_nli_loss"] == pytest.approx(expected_nli, rel=1e-4)
    assert not any(key.startswith("test_sts") for key in explicit)


def test_dict_losses_with_an_unnamed_eval_dataset_is_a_clear_error(model, tmp_path):
    trainer, _ = _trainer(model, tmp_path)
    with pytest.raises(SentforgeError, match="keyed like `loss`"):
        trainer.evaluate(_datasets()["sts"])


def test_training_logs_eval_loss_per_dataset(model, tmp_path):
    trainer, _ = _trainer(model, tmp_path, max_steps=2, eval_strategy="steps", eval_steps=1, save_strategy="no")
    trainer.train()
    history = trainer.state.log_history
    for name in ("sts", "nli"):
        values = [entry[f"eval_{name}_loss"] for entry in history if f"eval_{name}_loss" in entry]
        assert len(values) == 2 and all(math.isfinite(v) for v in values), name


def test_model_evaluate_returns_the_evaluators_metrics(model, tmp_path):
    evaluator = EmbeddingSimilarityEvaluator(LEFT, RIGHT, [i / 7 for i in range(8)], name="tiny")
    output_path = tmp_path / "results" / "nested"
    metrics = model.evaluate(evaluator, output_path=str(output_path))
    assert metrics == evaluator(model)
    assert "tiny_spearman_cosine" in metrics and math.isfinite(metrics["tiny_spearman_cosine"])
    assert os.listdir(output_path), "the evaluator's CSV was not written into the created output_path"

    seen = []
    assert model.evaluate(lambda m, path: seen.append((m, path)) or 0.5) == 0.5
    assert seen == [(model, None)]


def test_model_evaluate_refuses_a_non_evaluator(model):
    with pytest.raises(SentforgeError, match="needs an evaluator"):
        model.evaluate({"not": "an evaluator"})


def test_evaluations_during_training_score_the_current_weights(model, tmp_path):
    """Each in-training evaluation must see the weights of that step (fused AdamW updates them in place)."""
    data = Dataset.from_dict({"sentence1": LEFT, "sentence2": RIGHT, "score": [i / 7 for i in range(8)]})
    evaluator = EmbeddingSimilarityEvaluator(LEFT, RIGHT, [i / 7 for i in range(8)], name="sts")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=4, num_train_epochs=1, learning_rate=5e-3,
        optim="adamw_torch_fused", eval_strategy="steps", eval_steps=1, save_strategy="no", report_to=[],
        use_cpu=True, seed=1,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data,
                                         loss=CosineSimilarityLoss(model), evaluator=evaluator)
    trainer.train()
    logged = [e["eval_sts_spearman_cosine"] for e in trainer.state.log_history if "eval_sts_spearman_cosine" in e]
    assert len(logged) == 2
    assert logged[-1] == pytest.approx(evaluator(model)["sts_spearman_cosine"], abs=1e-6)
    assert logged[0] != pytest.approx(trainer.baseline_metrics["sts_spearman_cosine"], abs=1e-6)


def test_only_the_saving_process_writes_the_model(model, tmp_path, monkeypatch):
    """transformers calls `_save` on every process; the others must not write (they raced the main one)."""
    trainer, _ = _trainer(model, tmp_path)
    monkeypatch.setattr(type(trainer.args), "should_save", property(lambda self: False))
    trainer._save(str(tmp_path / "other-process"))
    assert not os.path.exists(tmp_path / "other-process")
    monkeypatch.undo()
    trainer._save(str(tmp_path / "main-process"))
    assert os.path.exists(tmp_path / "main-process" / "model.safetensors")


def test_gradient_checkpointing_trains_as_without_it(tiny_bert_dir, tmp_path):
    """`gradient_checkpointing=True` (common in real scripts) recomputes activations: same final weights."""
    from sentforge.losses import MultipleNegativesRankingLoss

    rows = [{"anchor": f"the {a} dog", "positive": f"a {a} cat"} for a in ("big", "small", "red", "blue")] * 2
    weights = []
    for checkpointing in (False, True):
        model = SentenceTransformer(tiny_bert_dir, device="cpu")
        model[0].fast_forward = False  # the reference: the same Hugging Face forward, without recomputation
        args = SentenceTransformerTrainingArguments(
            output_dir=str(tmp_path / str(checkpointing)), per_device_train_batch_size=4, max_steps=3,
            learning_rate=1e-3, report_to=[], use_cpu=True, gradient_checkpointing=checkpointing, seed=3,
            save_strategy="no",
        )
        SentenceTransformerTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                                   loss=MultipleNegativesRankingLoss(model)).train()
        assert getattr(model[0].auto_model, "is_gradient_checkpointing", False) == checkpointing
        weights.append({k: v.clone() for k, v in model.state_dict().items()})
    off, on = weights
    initial = SentenceTransformer(tiny_bert_dir, device="cpu").state_dict()
    assert max((on[k] - initial[k]).abs().max().item() for k in on) > 1e-4  # it trained
    assert max((off[k] - on[k]).abs().max().item() for k in off) < 1e-5  # recomputed dropout masks match
