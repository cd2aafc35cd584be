"""The pipeline in one Python call, with no terminal output: the same plan and result as the CLI."""

from __future__ import annotations

import json

import pytest
from test_cli import write_csv
from test_cli_train import qa_pairs

from sentforge.pipeline import ListReporter, check, plan_for, train


def test_train_in_one_call_prints_nothing_and_reports_through_the_reporter(tmp_path, tiny_bert_dir, capsys):
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(60))
    reporter = ListReporter()
    record = train(str(data), base=tiny_bert_dir, batch_size=8, max_steps=2, output=str(tmp_path / "model"),
                   reporter=reporter)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert record["status"] == "completed" and record["steps"] == 2
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["steps"] == 2
    said = "\n".join(reporter.lines)
    assert "Loss: MultipleNegativesRankingLoss" in said and "Model saved to" in said


def test_check_in_one_call_uses_train_defaults(tmp_path, tiny_bert_dir):
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(60))
    checked = check(str(data), base=tiny_bert_dir, loss="TripletLoss", batch_size=8)
    assert not checked.ok and [f.code for f in checked.report.errors] == ["loss-input"]
    assert plan_for(str(data)).batch_size == plan_for(str(data), batch_size=None).batch_size == 32


def test_unknown_option_is_a_type_error(tmp_path):
    with pytest.raises(TypeError, match="epoch"):
        plan_for("x.csv", epoch=3)
