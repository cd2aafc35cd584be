"""The dev split beside the training file: found by name, used for evaluation instead of a hold-out
(all training rows train), cleaned of texts shared with training, never a test split."""

from __future__ import annotations

import json
import os

import pytest

from sentforge.data import diagnose
from sentforge.data.dev_split import find_dev_split
from sentforge.pipeline.api import check, plan_for
from sentforge.pipeline.prepare import prepare


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def _pairs(prefix: str, n: int, start: int = 0) -> list[dict]:
    return [{"query": f"{prefix} question {i}", "answer": f"{prefix} answer {i}"} for i in range(start, start + n)]


@pytest.mark.parametrize(
    "train, present, expected",
    [
        ("sts-train.csv", ["sts-dev.csv", "sts-test.csv"], "sts-dev.csv"),
        ("train.jsonl", ["validation.jsonl"], "validation.jsonl"),
        ("msr-para-train.tsv", ["msr-para-val.tsv", "msr-para-test.tsv"], "msr-para-val.tsv"),
        ("demo_train.csv", ["demo_eval.csv"], "demo_eval.csv"),
        ("TRAIN.csv", ["DEV.csv"], "DEV.csv"),
        ("pairs_training.parquet", ["pairs_dev.parquet"], "pairs_dev.parquet"),
        ("train.jsonl", ["dev.jsonl", "validation.jsonl"], "dev.jsonl"),  # dev first
        ("claims_train.jsonl", ["claims_test.jsonl"], None),  # a test split is never picked
        ("train.jsonl", ["dev.csv"], None),  # another format is another data set
        ("pretrained.csv", ["predevd.csv", "dev.csv"], None),  # "train" must be a word of its own
        ("pairs.csv", ["dev.csv"], None),
    ],
)
def test_find_dev_split(tmp_path, train, present, expected):
    for name in [train, *present]:
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    found = find_dev_split(str(tmp_path / train))
    assert (os.path.basename(found) if found else None) == expected


def test_find_dev_split_of_a_missing_file_or_hub_id(tmp_path):
    assert find_dev_split(str(tmp_path / "train.csv")) is None
    assert find_dev_split("sentence-transformers/stsb") is None


def test_find_dev_split_of_shared_set_names():
    assert find_dev_split("stsb:train") == "stsb:validation"
    assert find_dev_split("mrpc:train") == "mrpc:validation"
    assert find_dev_split("scifact:train") is None  # SciFact has no dev split
    assert find_dev_split("stsb:test") is None


def test_dev_split_replaces_the_hold_out(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 120))
    dev_rows = _pairs("dev", 30)
    dev_rows[4] = {"query": "train question 7", "answer": "a dev answer"}  # shares a text with training
    _write_jsonl(tmp_path / "dev.jsonl", dev_rows)
    plan = plan_for(train, output=str(tmp_path / "out"))
    assert plan.eval == str(tmp_path / "dev.jsonl") and plan.eval_beside
    assert str(tmp_path / "dev.jsonl") in plan.inputs  # --overwrite never deletes it
    data = prepare(plan.train, plan.eval, eval_beside=plan.eval_beside)
    assert len(data.train) == 120 and data.held_out == 0  # every training row trains
    assert len(data.eval) == 29
    train_texts = set(data.train["query"]) | set(data.train["answer"])
    assert not train_texts & (set(data.eval["query"]) | set(data.eval["answer"]))
    assert data.eval_rows is not None and 4 not in data.eval_rows  # rows of the dev file
    assert data.eval_name == "dev"
    assert any("dev.jsonl" in note and "1 rows sharing a text" in note for note in data.notes)


def test_findings_name_the_dev_files_rows(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 60))
    dev_rows = _pairs("dev", 20)
    dev_rows[2] = {"query": "train question 3", "answer": "shared"}
    dev_rows[10]["answer"] = ""
    _write_jsonl(tmp_path / "dev.jsonl", dev_rows)
    data = prepare(train, str(tmp_path / "dev.jsonl"), eval_beside=True)
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows, eval_rows=data.eval_rows)
    empty = [f for f in report.errors if f.code == "empty-text"]
    assert len(empty) == 1 and "rows 11." in empty[0].message


def test_hold_out_option_and_named_eval_win(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 120))
    _write_jsonl(tmp_path / "dev.jsonl", _pairs("dev", 30))
    other = _write_jsonl(tmp_path / "other.jsonl", _pairs("other", 10))
    held = plan_for(train, output=str(tmp_path / "a"), hold_out=True)
    assert held.eval is None and not held.eval_beside
    named = plan_for(train, output=str(tmp_path / "b"), eval=other)
    assert named.eval == other and not named.eval_beside
    data = prepare(held.train, held.eval, eval_beside=held.eval_beside)
    assert data.held_out > 0 and len(data.train) < 120


def test_an_unusable_dev_split_falls_back_to_the_hold_out(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 120))
    _write_jsonl(tmp_path / "dev.jsonl", [{"only": f"one column {i}"} for i in range(20)])
    plan = plan_for(train, output=str(tmp_path / "out"))
    data = prepare(plan.train, plan.eval, eval_beside=plan.eval_beside)
    assert data.held_out > 0
    assert any("cannot evaluate on it" in note and "holding out" in note for note in data.notes)


def test_a_dev_split_that_repeats_training_falls_back_to_the_hold_out(tmp_path):
    rows = _pairs("train", 120)
    train = _write_jsonl(tmp_path / "train.jsonl", rows)
    _write_jsonl(tmp_path / "dev.jsonl", rows[:20])
    data = prepare(train, str(tmp_path / "dev.jsonl"), eval_beside=True)
    assert data.held_out > 0
    assert any("every row shares a text" in note for note in data.notes)


def test_check_uses_the_dev_split_as_train_does(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 80))
    _write_jsonl(tmp_path / "dev.jsonl", _pairs("dev", 25))
    checked = check(train, with_model=False)
    assert len(checked.data.train) == 80 and len(checked.data.eval) == 25


def test_a_large_dev_split_is_sampled(tmp_path, monkeypatch):
    from sentforge.pipeline import prepare as prepare_module

    monkeypatch.setattr(prepare_module, "DEV_SPLIT_MAX_ROWS", 10)
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 50))
    _write_jsonl(tmp_path / "dev.jsonl", _pairs("dev", 40))
    first = prepare(train, str(tmp_path / "dev.jsonl"), eval_beside=True, seed=1)
    again = prepare(train, str(tmp_path / "dev.jsonl"), eval_beside=True, seed=1)
    assert len(first.eval) == 10 and first.eval["query"] == again.eval["query"]  # seeded
    assert first.eval["query"] == [f"dev question {row}" for row in first.eval_rows]  # the dev file's rows
    assert any("a seeded sample of 10" in note for note in first.notes)



def test_a_recipe_file_keeps_its_own_evaluation_data(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", _pairs("train", 40))
    _write_jsonl(tmp_path / "dev.jsonl", _pairs("dev", 10))
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"base_model: m\ndata: {{train: {train}}}\nloss: MultipleNegativesRankingLoss\n", encoding="utf-8")
    plan = plan_for(config=str(recipe), output=str(tmp_path / "out"))
    assert plan.eval is None and not plan.eval_beside  # as written: the hold-out
