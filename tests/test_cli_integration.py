"""The command line on the packaged all-MiniLM-L6-v2: the seed-003 and seed-000 mistakes, caught or avoided."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path

import pytest
from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import assert_user_error, flat, invoke, write_csv

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def inverted_nli(tmp_path_factory, shared_data) -> Path:
    """Seed 003's data: NLI pairs labelled 0 = entailment, 0.5 = neutral-ish, 1 = contradiction, used as similarity."""
    triplets = []
    with open(os.path.join(shared_data, "nli", "triplets.jsonl"), encoding="utf-8") as handle:
        for line, _ in zip(handle, range(40)):
            triplets.append(json.loads(line))
    rows = [(t["anchor"], t["positive"], 0.0) for t in triplets] + [(t["anchor"], t["negative"], 1.0) for t in triplets]
    rows += [(t["positive"], t["negative"], 0.5) for t in triplets[:10]]
    return write_csv(tmp_path_factory.mktemp("nli") / "nli_pairs.csv", ["premise", "hypothesis", "label"], rows)


def test_seed003_check_names_the_fix(inverted_nli, minilm_path) -> None:
    result = invoke("check", inverted_nli, "--base", minilm_path, "--loss", "CosineSimilarityLoss")
    assert_user_error(result, "labels-inverted", "1 - label", "--allow-inverted-labels")
    log = flat(result.output)
    assert "nli-labels" in log and "entailment -> 1.0" in log


def test_seed003_check_allows_inverted_labels_when_asked(inverted_nli, minilm_path) -> None:
    result = invoke("check", inverted_nli, "--base", minilm_path, "--allow-inverted-labels")
    assert result.exit_code == 0, result.output
    assert "labels-inverted" in flat(result.output)  # still reported, as a warning


def test_seed003_train_stops_before_training(inverted_nli, minilm_path, tmp_path) -> None:
    output = tmp_path / "never-trained"
    result = invoke("train", inverted_nli, "--base", minilm_path, "--loss", "CosineSimilarityLoss", "--output", output)
    assert_user_error(result, "training did not start", "labels-inverted", "1 - label")
    assert "Evaluator:" not in result.output and "Baseline vs fine-tuned" not in result.output
    assert not output.exists()


def test_seed000_on_minilm_reports_retrieval_metrics(tmp_path, minilm_path) -> None:
    """Q/A pairs, eval pairs all labelled 1.0: real retrieval metrics in the log, metrics.json and card."""
    with open(REPO / "examples" / "data" / "demo_train.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    train = write_csv(tmp_path / "train.csv", ["question", "answer"], [(r["question"], r["answer"]) for r in rows[:32]])
    evaluation = write_csv(tmp_path / "eval.csv", ["question", "answer", "score"],
                           [(r["question"], r["answer"], 1.0) for r in rows[32:42]])
    output = tmp_path / "model"
    result = invoke("train", train, "--eval", evaluation, "--base", minilm_path, "--batch-size", 8,
                    "--max-steps", 1, "--output", output)
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "every eval label is 1" in log and "eval_cosine_ndcg@10 (primary)" in log
    record = json.loads((output / "metrics.json").read_text(encoding="utf-8"))
    for part in ("baseline", "final"):
        assert all(isinstance(v, float) and math.isfinite(v) for v in record[part].values())
    assert record["baseline"]["eval_cosine_ndcg@10"] > 0.5  # the real model already retrieves well
    card = (output / "README.md").read_text(encoding="utf-8")
    assert "Information Retrieval" in card and "cosine_ndcg@10" in card
