"""On a real run (all-MiniLM-L6-v2, STS-B), the card's "Baseline vs Fine-tuned" table holds the base
model's and the saved model's scores, each recomputed here independently, and their difference.

Reference values: sentforge's EmbeddingSimilarityEvaluator on a fresh copy of the base model and on
the model loaded back from disk (the evaluator itself is checked against sentence-transformers'
elsewhere). Tolerance: 5e-5, the card's 4 decimals.
"""

from __future__ import annotations

import math
import os

import pytest

pytestmark = pytest.mark.integration


def _card_row(card: str, metric: str) -> tuple[float, float, float]:
    section = card.split("### Baseline vs Fine-tuned")[1].split("\n#")[0]
    row = next(line for line in section.splitlines() if line.startswith("|") and f"{metric} " in line)
    cells = [c.strip(" *") for c in row.strip("|").split("|")]
    return float(cells[1]), float(cells[2]), float(cells[3])


def test_baseline_table_on_minilm_stsb(minilm_path, shared_data, tmp_path):
    from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from sentforge.data.shared_sets import load_stsb
    from sentforge.evaluation import EmbeddingSimilarityEvaluator
    from sentforge.losses import CosineSimilarityLoss

    train = load_stsb("train", root=shared_data).select(range(160))
    dev = load_stsb("dev", root=shared_data).select(range(200))
    evaluator = EmbeddingSimilarityEvaluator(dev["sentence1"], dev["sentence2"], dev["score"], name="sts-dev")
    model = SentenceTransformer(minilm_path, device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "run"), per_device_train_batch_size=16, num_train_epochs=1, learning_rate=1e-4,
        warmup_ratio=0.1, eval_strategy="steps", eval_steps=5, save_strategy="no", report_to=[], seed=42,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=train,
                                         loss=CosineSimilarityLoss(model), evaluator=evaluator)
    trainer.train()
    final = str(tmp_path / "final")
    model.save(final)
    card = open(os.path.join(final, "README.md"), encoding="utf-8").read()

    base = evaluator(SentenceTransformer(minilm_path, device="cpu"))["sts-dev_spearman_cosine"]
    tuned = evaluator(SentenceTransformer(final, device="cpu"))["sts-dev_spearman_cosine"]
    before, after, difference = _card_row(card, "sts-dev_spearman_cosine")
    assert math.isclose(before, base, abs_tol=5e-5)
    assert math.isclose(after, tuned, abs_tol=5e-5)
    assert math.isclose(difference, tuned - base, abs_tol=1.5e-4)
    assert abs(tuned - base) > 1e-3  # ten steps at lr 1e-4 do move the model
