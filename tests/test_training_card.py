"""A real training run writes the model card: seed-004 shape (CosineSimilarityLoss, evaluator `valid`,
eval every N steps) gives seed 004's headings, YAML keys and table columns; the baseline table is
right; a resumed run continues its log and a new run starts a new one."""

from __future__ import annotations

import math
import os
import re

import pytest
from datasets import Dataset

from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses
from sentforge.evaluation import EmbeddingSimilarityEvaluator
from test_card import front_matter, headings, seed, table_headers

WORDS = "law mining permit claim land gold coal rock miner owner court rule right license fee year month day".split()
ADDED_SECTIONS = ("### Baseline vs Fine-tuned", "### Data Doctor Findings")


def _pairs(n: int, offset: int = 0) -> Dataset:
    rows = []
    for i in range(n):
        a, b = WORDS[(i + offset) % len(WORDS)], WORDS[(3 * i + 1 + offset) % len(WORDS)]
        rows.append({"sentence_0": f"the {a} of the {b}", "sentence_1": f"a {b} with {a}", "label": ((i * 7) % 10) / 10})
    return Dataset.from_list(rows)


def _train(model_dir: str, out: str, max_steps: int = -1, resume: bool = False) -> SentenceTransformerTrainer:
    model = SentenceTransformer(model_dir, device="cpu")
    model.base_model_id = "sentence-transformers/tiny-test-model"  # as if loaded by hub id (the card's base_model)
    evaluator_data = _pairs(24, offset=5)
    evaluator = EmbeddingSimilarityEvaluator(evaluator_data["sentence_0"], evaluator_data["sentence_1"], evaluator_data["label"], name="valid")
    args = SentenceTransformerTrainingArguments(
        output_dir=out, num_train_epochs=2, max_steps=max_steps, per_device_train_batch_size=16, per_device_eval_batch_size=16,
        eval_strategy="steps", eval_steps=2, logging_steps=1, save_steps=2, report_to=[], disable_tqdm=True,
        multi_dataset_batch_sampler="round_robin", seed=42,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=_pairs(64), evaluator=evaluator,
                                         loss=losses.CosineSimilarityLoss(model))
    trainer.train(resume_from_checkpoint=True if resume else None)
    return trainer


@pytest.fixture(scope="module")
def trained(tiny_bert_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run"))
    trainer = _train(tiny_bert_dir, out)
    final = os.path.join(out, "final")
    trainer.model.save(final)
    return trainer, final, open(os.path.join(final, "README.md"), encoding="utf-8").read()


def test_card_matches_seed_004_structure(trained):
    _, _, card = trained
    reference = seed("004")
    ours = [h for h in headings(card) if h not in ADDED_SECTIONS]
    # the title names the base model, which is a local folder here
    assert ours[0].startswith("# SentenceTransformer")
    assert ours[1:] == headings(reference)[1:]
    assert list(front_matter(card)) == list(front_matter(reference))
    ref_tables = [t for t in table_headers(reference)]
    our_tables = [t for t in table_headers(card) if "Baseline" not in t and "Fine-tuned" not in t]
    assert [re.sub(r"sentence_\d", "s", t) for t in our_tables] == [re.sub(r"sentence_\d", "s", t) for t in ref_tables]


def test_card_content_is_from_this_run(trained):
    trainer, final, card = trained
    meta = front_matter(card)
    assert "loss:CosineSimilarityLoss" in meta["tags"] and "dataset_size:64" in meta["tags"]
    assert "- `eval_strategy`: steps" in card and "- `per_device_train_batch_size`: 16" in card
    results = {m["type"]: m["value"] for m in meta["model-index"][0]["results"][0]["metrics"]}
    final_metrics = trainer.evaluator(trainer.model)
    assert math.isclose(results["spearman_cosine"], final_metrics["valid_spearman_cosine"], abs_tol=1e-9)
    logs = card.split("### Training Logs")[1].split("\n\n")[0]
    assert "valid_spearman_cosine" in logs and len([l for l in logs.splitlines() if l.startswith("| ")]) >= 8
    assert os.path.exists(os.path.join(final, "training_curve.png"))
    assert "training_curve.png" in card


def test_baseline_table_reports_before_after_and_difference(trained):
    trainer, _, card = trained
    section = card.split("### Baseline vs Fine-tuned")[1].split("\n#")[0]
    row = next(l for l in section.splitlines() if l.startswith("|") and "spearman_cosine" in l)
    cells = [c.strip(" *") for c in row.strip("|").split("|")]
    before, after, diff = (float(c) for c in cells[1:4])
    assert math.isclose(before, trainer.baseline_metrics["valid_spearman_cosine"], abs_tol=5e-5)
    assert math.isclose(diff, after - before, abs_tol=2e-4)


def test_run_record_regenerates_the_same_card(trained):
    from sentforge.card.write import regenerate_model_card

    _, final, card = trained
    assert regenerate_model_card(final) is None
    assert open(os.path.join(final, "README.md"), encoding="utf-8").read() == card


def test_resumed_run_continues_its_log_and_new_run_starts_fresh(tiny_bert_dir, tmp_path):
    out = str(tmp_path / "run")
    _train(tiny_bert_dir, out, max_steps=4)
    resumed = _train(tiny_bert_dir, out, max_steps=8, resume=True)
    steps = [e["step"] for e in resumed.state.log_history if "loss" in e]
    assert steps == list(range(1, 9))  # steps 1-4 from before the resume, 5-8 after
    fresh = _train(tiny_bert_dir, str(tmp_path / "other"), max_steps=3)
    assert [e["step"] for e in fresh.state.log_history if "loss" in e] == [1, 2, 3]


def test_the_run_record_is_data_that_outlives_the_trainer(tiny_bert_dir, tmp_path):
    """After train() the model carries its run as data: the trainer can be freed and a later save
    still writes the run's card (log rows, hyperparameters)."""
    import gc
    import weakref

    from sentforge.training.training_run import TrainingRun

    trainer = _train(tiny_bert_dir, str(tmp_path / "run"), max_steps=4)
    model = trainer.model
    assert isinstance(model.training_run, TrainingRun)
    assert model.training_run.log_history is trainer.state.log_history
    trainer_ref = weakref.ref(trainer)
    del trainer
    gc.collect()
    assert trainer_ref() is None, "something still holds the trainer"
    model.save(str(tmp_path / "saved"))
    card = open(tmp_path / "saved" / "README.md", encoding="utf-8").read()
    assert "### Training Logs" in card and "- `per_device_train_batch_size`: 16" in card
