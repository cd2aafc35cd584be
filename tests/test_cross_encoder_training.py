"""CrossEncoderTrainer: trains, evaluates before/after, keeps the best checkpoint, writes the card."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from datasets import Dataset

from cross_encoder_tiny import PAIRS, build_tiny_cross_encoder
from sentforge import SentforgeError
from sentforge.cross_encoder import CrossEncoder, CrossEncoderTrainer, CrossEncoderTrainingArguments, losses
from sentforge.cross_encoder.evaluation import CrossEncoderRerankingEvaluator

DOCS = [d for _, d in PAIRS]


@pytest.fixture(scope="module")
def tiny_ce_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("train_ce")))


def _labeled_pairs() -> Dataset:
    rows = {"query": [], "passage": [], "label": []}
    for i, (query, positive) in enumerate(PAIRS * 2):
        rows["query"] += [query, query]
        rows["passage"] += [positive, DOCS[(i + 1) % len(DOCS)]]
        rows["label"] += [1, 0]
    return Dataset.from_dict(rows)


def _evaluator() -> CrossEncoderRerankingEvaluator:
    samples = [{"query": q, "positive": [d], "negative": [x for x in DOCS if x != d]} for q, d in PAIRS]
    return CrossEncoderRerankingEvaluator(samples, name="dev")


def _args(tmp_path, **overrides) -> CrossEncoderTrainingArguments:
    settings = dict(output_dir=str(tmp_path / "run"), num_train_epochs=3, per_device_train_batch_size=6,
                    learning_rate=5e-3, report_to=[], use_cpu=True, disable_tqdm=True, logging_steps=2, seed=1)
    return CrossEncoderTrainingArguments(**{**settings, **overrides})


def test_training_learns_and_writes_card(tiny_ce_dir, tmp_path):
    model = CrossEncoder(tiny_ce_dir, device="cpu")
    data = _labeled_pairs()
    trainer = CrossEncoderTrainer(
        model=model, args=_args(tmp_path, num_train_epochs=2, eval_strategy="epoch", save_strategy="epoch",
                                load_best_model_at_end=True, metric_for_best_model="eval_dev_ndcg@10"),
        train_dataset=data, eval_dataset=data, loss=losses.BinaryCrossEntropyLoss(model), evaluator=_evaluator(),
    )
    pairs = list(zip(data["query"], data["passage"]))
    before = np.mean(np.abs(model.predict(pairs, activation_fn=torch.nn.Identity()) - np.array(data["label"])))
    trainer.train()
    after = np.mean(np.abs(model.predict(pairs) - np.array(data["label"])))
    assert after < before
    assert set(trainer.baseline_metrics) == {"dev_map", "dev_mrr@10", "dev_ndcg@10"}
    logged = [row for row in trainer.state.log_history if "eval_dev_ndcg@10" in row]
    assert len(logged) == 2 and all("eval_loss" in row for row in logged)
    model.save(str(tmp_path / "final"))
    card = (tmp_path / "final" / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    assert front["tags"][:3] == ["sentence-transformers", "cross-encoder", "reranker"]
    assert "dataset_size:24" in front["tags"] and "loss:BinaryCrossEntropyLoss" in front["tags"]
    assert front["model-index"][0]["results"][0]["dataset"]["name"] == "dev"
    headings = ("## Evaluation", "## Baseline vs Fine-tuned", "### Training Logs", "#### Non-Default Hyperparameters")
    for heading in headings:
        assert heading in card
    reloaded = CrossEncoder(str(tmp_path / "final"), device="cpu")
    np.testing.assert_allclose(reloaded.predict(pairs), model.predict(pairs), atol=1e-6)


def test_default_loss_dict_datasets_and_listwise(tiny_ce_dir, tmp_path):
    model = CrossEncoder(tiny_ce_dir, device="cpu")
    lists = Dataset.from_dict({"query": [q for q, _ in PAIRS], "docs": [DOCS[:3]] * len(PAIRS),
                               "labels": [[1, 0, 0]] * len(PAIRS)})
    trainer = CrossEncoderTrainer(
        model=model, args=_args(tmp_path, num_train_epochs=1, max_steps=4),
        train_dataset={"pairs": _labeled_pairs(), "lists": lists},
        loss={"pairs": losses.BinaryCrossEntropyLoss(model), "lists": losses.ListNetLoss(model)},
    )
    trainer.train()
    assert trainer.state.global_step == 4
    assert isinstance(CrossEncoderTrainer(model=model, args=_args(tmp_path), train_dataset=_labeled_pairs()).loss,
                      losses.BinaryCrossEntropyLoss)


def test_trainer_refuses_eval_strategy_without_evaluation(tiny_ce_dir, tmp_path):
    model = CrossEncoder(tiny_ce_dir, device="cpu")
    with pytest.raises(SentforgeError, match="eval_strategy"):
        CrossEncoderTrainer(model=model, args=_args(tmp_path, eval_strategy="epoch"), train_dataset=_labeled_pairs())


def test_cached_loss_gradients_equal_plain_loss_with_dropout(tmp_path):
    """With dropout on, the backward pass replays the forward's dropout masks: same gradients as the plain loss
    (one mini-batch, so both draw the same masks)."""
    folder = build_tiny_cross_encoder(str(tmp_path / "ce"), dropout=0.1)
    model = CrossEncoder(folder, device="cpu")
    model.train()
    inputs = [[q for q, _ in PAIRS], DOCS]
    grads = []
    for loss in (losses.MultipleNegativesRankingLoss(model, num_negatives=None),
                 losses.CachedMultipleNegativesRankingLoss(model, num_negatives=None, mini_batch_size=100)):
        model.zero_grad()
        torch.manual_seed(3)
        loss(inputs, None).backward()
        grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    for plain, cached in zip(*grads):
        torch.testing.assert_close(plain, cached, atol=1e-5, rtol=1e-4)
