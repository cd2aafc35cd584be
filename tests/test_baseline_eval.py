"""The trainer's baseline evaluation (the card's "Baseline vs Fine-tuned") is invisible to a script:
the evaluators' CSV files and the log history hold exactly what sentence-transformers' trainer writes,
and ``eval_baseline=False`` skips it."""

from __future__ import annotations

import csv
import os

import pytest
from datasets import Dataset

WORDS = "law mining permit claim land gold coal rock miner owner court rule right license fee year".split()


def pairs(n: int, offset: int = 0) -> Dataset:
    rows = [{"sentence1": f"the {WORDS[(i + offset) % 16]} of {WORDS[(3 * i + offset) % 16]}",
             "sentence2": f"a {WORDS[(5 * i + 1) % 16]} and {WORDS[(i + 2) % 16]}", "score": (i % 5) / 4} for i in range(n)]
    return Dataset.from_list(rows)


def run(library: str, folder: str, out: str, **trainer_options):
    """Four steps of CosineSimilarityLoss, evaluated every two steps; returns (trainer, evaluator)."""
    if library == "st":
        import sentence_transformers as lib
        from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator
        from sentence_transformers.losses import CosineSimilarityLoss
    else:
        import sentforge as lib
        from sentforge.evaluation import EmbeddingSimilarityEvaluator
        from sentforge.losses import CosineSimilarityLoss
    model = lib.SentenceTransformer(folder, device="cpu")
    dev = pairs(12, offset=3)
    evaluator = EmbeddingSimilarityEvaluator(dev["sentence1"], dev["sentence2"], dev["score"], name="dev")
    args = lib.SentenceTransformerTrainingArguments(
        output_dir=out, max_steps=4, per_device_train_batch_size=8, eval_strategy="steps", eval_steps=2,
        logging_steps=2, save_strategy="no", report_to=[], disable_tqdm=True, seed=1,
    )
    trainer = lib.SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs(40), evaluator=evaluator,
                                             loss=CosineSimilarityLoss(model), **trainer_options)
    trainer.train()
    return trainer, evaluator


def csv_steps(out: str) -> list[tuple[str, str]]:
    folder = os.path.join(out, "eval")
    rows = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            rows += [(name, row["steps"]) for row in csv.DictReader(handle)]
    return rows


def evaluated_steps(trainer) -> list[int]:
    return [entry["step"] for entry in trainer.state.log_history if any("dev_" in key for key in entry)]


def test_csv_files_and_log_history_match_sentence_transformers(tiny_bert_dir, tmp_path):
    pytest.importorskip("sentence_transformers")
    theirs, _ = run("st", tiny_bert_dir, str(tmp_path / "st"))
    ours, _ = run("sentforge", tiny_bert_dir, str(tmp_path / "ours"))
    assert ours.baseline_metrics and "dev_spearman_cosine" in ours.baseline_metrics  # the card still has it
    assert csv_steps(str(tmp_path / "ours")) == csv_steps(str(tmp_path / "st"))
    assert len(csv_steps(str(tmp_path / "st"))) == 2
    assert evaluated_steps(ours) == evaluated_steps(theirs) == [2, 4]


def test_eval_baseline_false_never_evaluates_before_training(tiny_bert_dir, tmp_path, monkeypatch):
    from sentforge.training.evaluator_steps import EvaluatorSteps

    evaluated_at: list[int] = []
    real = EvaluatorSteps.run_evaluator

    def spy(self, write_csv: bool = True):
        evaluated_at.append(self.state.global_step)
        return real(self, write_csv)

    monkeypatch.setattr(EvaluatorSteps, "run_evaluator", spy)
    trainer, _ = run("sentforge", tiny_bert_dir, str(tmp_path / "off"), eval_baseline=False)
    assert trainer.baseline_metrics is None
    assert evaluated_at == [2, 4]  # no evaluation at step 0
    monkeypatch.undo()
    evaluated_at.clear()
    monkeypatch.setattr(EvaluatorSteps, "run_evaluator", spy)
    run("sentforge", tiny_bert_dir, str(tmp_path / "on"))
    assert evaluated_at == [0, 2, 4]  # the default: once before training


def test_the_scripts_own_evaluation_of_the_same_weights_is_the_baseline(tiny_bert_dir, tmp_path):
    """A script that scores the base model itself before training: the trainer reuses that result
    instead of evaluating the same weights again; once the weights change, it evaluates anew."""
    import torch

    from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentforge.evaluation import EmbeddingSimilarityEvaluator
    from sentforge.losses import CosineSimilarityLoss

    class CountingEvaluator(EmbeddingSimilarityEvaluator):
        calls = 0

        def __call__(self, model, output_path=None, epoch=-1, steps=-1):
            type(self).calls += 1
            return super().__call__(model, output_path, epoch, steps)

    def trainer_for(model, evaluator, out):
        args = SentenceTransformerTrainingArguments(output_dir=str(out), max_steps=2, per_device_train_batch_size=8,
                                                    eval_strategy="no", save_strategy="no", report_to=[],
                                                    disable_tqdm=True, seed=1)
        return SentenceTransformerTrainer(model=model, args=args, train_dataset=pairs(16), evaluator=evaluator,
                                          loss=CosineSimilarityLoss(model))

    dev = pairs(12, offset=3)
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    evaluator = CountingEvaluator(dev["sentence1"], dev["sentence2"], dev["score"], name="dev")
    before = evaluator(model)
    trainer = trainer_for(model, evaluator, tmp_path / "same")
    trainer.train()
    assert CountingEvaluator.calls == 1
    assert trainer.baseline_metrics == before

    CountingEvaluator.calls = 0
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    evaluator(model)
    with torch.no_grad():
        next(model.parameters()).mul_(1.01)  # changed in place after the script's evaluation
    trainer = trainer_for(model, evaluator, tmp_path / "changed")
    trainer.train()
    assert CountingEvaluator.calls == 2
    assert trainer.baseline_metrics != before
