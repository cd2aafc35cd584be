"""`sentforge train` with the recipe chosen from the data, on a tiny random model: the log, metrics.json and the
card say what was chosen and why, what mining did, and the quality at Matryoshka dimensions."""

from __future__ import annotations

import json

from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import flat, invoke, write_csv
from test_cli_train import qa_pairs


def metrics_of(output) -> dict:
    return json.loads((output / "metrics.json").read_text(encoding="utf-8"))


def test_pairs_are_mined_and_the_recipe_is_written_down(tmp_path, tiny_bert_dir) -> None:
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(60))
    output = tmp_path / "model"
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--max-steps", 2, "--output", output)
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "Recipe chosen from the data:" in log and "Your options win: per_device_train_batch_size=8" in log, result.output
    assert "Hard negatives: mined" in log and "MatryoshkaLoss (dims 32, 16, 8)" in log
    assert "Matryoshka: held-out_cosine_ndcg@10 at 16 dimensions" in log
    record = metrics_of(output)
    choice = record["recipe_choice"]
    assert choice["reason"] and choice["args"]["per_device_train_batch_size"] == 8 and choice["matryoshka"]
    mined = record["hard_negatives"]
    assert mined["queries"] == 54 and mined["mined"] + mined["random_fill"] == 54 and "dropped_false_negatives" in mined
    assert record["data"]["columns"] == ["question", "answer", "negative"]
    assert "mine_hard_negatives" in record["timings_s"]
    assert record["matryoshka"]["dims"] == [32, 16, 8] and set(record["matryoshka"]) >= {"16", "8"}
    card = (output / "README.md").read_text(encoding="utf-8")
    assert "Recipe chosen from the data:" in card and "Hard negatives: mined" in card
    assert "Quality at Matryoshka dimensions" in card


def test_no_mine_trains_the_pairs_as_given(tmp_path, tiny_bert_dir) -> None:
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(40))
    output = tmp_path / "model"
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--max-steps", 1, "--no-baseline",
                    "--no-mine", "--output", output)
    assert result.exit_code == 0, result.output
    record = metrics_of(output)
    assert "hard_negatives" not in record and record["data"]["columns"] == ["question", "answer"]
    assert "--no-mine" in record["recipe_choice"]["reason"]


def test_search_runs_short_trials_on_the_held_out_split(tmp_path, tiny_bert_dir) -> None:
    rows = [(q, a, float(i % 6)) for i, (q, a) in enumerate(qa_pairs(48))]
    data = write_csv(tmp_path / "sts.csv", ["sentence1", "sentence2", "score"], rows)
    output = tmp_path / "model"
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--max-steps", 3, "--search", 2,
                    "--no-baseline", "--allow-inverted-labels", "--output", output)
    assert result.exit_code == 0, result.output
    search = metrics_of(output)["recipe_search"]
    assert [t["candidate"] for t in search["trials"]] == ["the recipe chosen from the data", "loss AnglELoss"]
    assert search["trial_steps"] == 1 and search["split"].startswith("held-out")
    assert "Recipe search picked" in flat(result.output)
