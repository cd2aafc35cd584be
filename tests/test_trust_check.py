"""`sentforge check` and `sentforge train` agree: check accepts exactly what train accepts."""

from __future__ import annotations

import pytest
from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import flat, invoke, write_csv
from test_cli_train import qa_pairs


@pytest.mark.parametrize("loss", ["TripletLoss", "CoSENTLoss"])
def test_check_refuses_what_train_refuses(tmp_path, tiny_bert_dir, loss):
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(80))
    checked = invoke("check", data, "--base", tiny_bert_dir, "--loss", loss, "--batch-size", 8)
    trained = invoke("train", data, "--base", tiny_bert_dir, "--loss", loss, "--batch-size", 8,
                     "--max-steps", 1, "--output", tmp_path / "model")
    assert trained.exit_code == 2, trained.output
    assert checked.exit_code == 2, checked.output
    assert "ready to train" not in flat(checked.output)
    assert loss in flat(checked.output)


def test_check_and_train_accept_the_same_good_data(tmp_path, tiny_bert_dir):
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(80))
    checked = invoke("check", data, "--base", tiny_bert_dir, "--batch-size", 8)
    assert checked.exit_code == 0, checked.output
    assert "ready to train" in flat(checked.output)
    trained = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 8, "--max-steps", 1,
                     "--no-baseline", "--output", tmp_path / "model")
    assert trained.exit_code == 0, trained.output
    # Same defaults, same hold-out: both say the same held-out split.
    held = [line for line in flat(checked.output).split("No --eval data")[1:]]
    assert held and held[0].split(".")[0] in flat(trained.output)
