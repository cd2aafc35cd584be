"""Every file of the shared data sets, prepared with `sentforge train`'s defaults: no metadata column
trained as text, a held-out split with no text on both sides, and the label mapping said once, right."""

from __future__ import annotations

import os

import pytest

from sentforge.pipeline.prepare import prepare, rescale_scores
from sentforge.data import diagnose
from sentforge.errors import SentforgeError

pytestmark = pytest.mark.integration

TRAINABLE = {
    "stsb/sts-train.csv": ("scored-pairs", (0.0, 5.0)),
    "stsb/sts-dev.csv": ("scored-pairs", (0.0, 5.0)),
    "stsb/sts-test.csv": ("scored-pairs", (0.0, 5.0)),
    "mrpc/msr-para-train.tsv": ("binary-pairs", None),
    "mrpc/msr-para-val.tsv": ("binary-pairs", None),
    "mrpc/msr-para-test.tsv": ("binary-pairs", None),
    "nli/triplets.jsonl": ("triplets", None),
    "scifact/claims_train_with_evidence.jsonl": ("pairs", None),
    "scifact/claims_test_with_evidence.jsonl": ("pairs", None),
    "scifact/qrels/train.tsv": ("pairs", None),
    "scifact/corpus.jsonl": ("pairs", None),
}
METADATA_VALUES = {"snli", "sick", "xnli_en", "dev", "test", "train", "premise->hyp", "hyp->premise"}


def _texts(dataset) -> set[str]:
    return {t for c in dataset.column_names if c != "label" for t in dataset[c] if t}


@pytest.mark.parametrize("name", sorted(TRAINABLE))
def test_shared_file_prepares_cleanly(shared_data, name):
    task, scale = TRAINABLE[name]
    data = prepare(os.path.join(shared_data, name), None)
    assert data.roles.task == task
    texts = _texts(data.train) | _texts(data.eval)
    assert not texts & METADATA_VALUES, "a metadata column was taken as text"
    assert data.eval is not None and len(data.eval) > 0
    assert not _texts(data.train) & _texts(data.eval), "a text is on both sides of the hold-out"
    note = rescale_scores(data, any_scale=True)
    if scale is None:
        assert note is None
    else:
        assert f"{scale[0]:g}-{scale[1]:g} scale" in note and max(data.train["label"]) <= 1.0
        said = [line for line in [data.roles.explanation, *data.notes] if "mapped" in line or "from 0 to" in line]
        assert said == [note], "the mapping is said once"
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows, eval_rows=data.eval_rows)
    assert not [f for f in report.findings if f.code == "eval-leakage"]


def test_queries_alone_are_refused_with_the_reason(shared_data):
    with pytest.raises(SentforgeError, match="at least two text columns.*_id.*id"):
        prepare(os.path.join(shared_data, "scifact/queries.jsonl"), None)


DEV_SPLITS = {"stsb/sts-train.csv": "stsb/sts-dev.csv", "mrpc/msr-para-train.tsv": "mrpc/msr-para-val.tsv"}


@pytest.mark.parametrize("name", sorted(DEV_SPLITS))
def test_dev_split_beside_is_clean(shared_data, name):
    """The run's default for a file with a dev split beside it: every training row, and dev rows with
    no text in training (so the doctor finds no leakage)."""
    from sentforge.pipeline.api import plan_for

    plan = plan_for(os.path.join(shared_data, name), output="-")
    assert plan.eval == os.path.join(shared_data, DEV_SPLITS[name]) and plan.eval_beside
    data = prepare(plan.train, plan.eval, eval_beside=True)
    whole = prepare(plan.train, plan.eval)
    assert len(data.train) == len(whole.train) and 0 < len(data.eval) < len(whole.eval)
    assert not _texts(data.train) & _texts(data.eval)
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows, eval_rows=data.eval_rows)
    assert not [f for f in report.findings if f.code == "eval-leakage"]


TRAIN_LOG_FILES = ["stsb/sts-train.csv", "mrpc/msr-para-train.tsv", "nli/triplets.jsonl",
                   "scifact/claims_train_with_evidence.jsonl"]


@pytest.mark.parametrize("name", TRAIN_LOG_FILES)
def test_sentforge_train_says_what_it_uses(shared_data, tiny_bert_dir, tmp_path, name):
    """The train command itself (a tiny base model, one step): the held-out split is by group, metadata
    columns are named as ignored, the label mapping is said once, and the run's metrics.json agrees."""
    import json

    from typer.testing import CliRunner

    from sentforge.cli import app

    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", os.path.join(shared_data, name), "--base", tiny_bert_dir,
                                      "--max-steps", "1", "--no-baseline", "--no-mine", "--output", str(out)])
    assert result.exit_code == 0, result.output
    log = " ".join(result.output.split())
    if name in DEV_SPLITS:  # the data's own dev split, cleaned of texts shared with training
        assert f"evaluating on {os.path.join(shared_data, DEV_SPLITS[name])}, the training data's own dev split" in log
        assert "rows sharing a text with training left out" in log
    else:
        assert "by group: no text is in both parts" in log
    task, scale = TRAINABLE[name]
    assert f"Task: {task}." in log
    if name.startswith("nli/"):
        assert "source" in log and "split" in log and "ignored" in log.lower()
    mapping_lines = [line for line in result.output.splitlines() if "scale" in line and "mapped" in line]
    if scale is not None:
        assert len(mapping_lines) == 1, result.output
    record = json.loads((out / "metrics.json").read_text())
    columns = record["data"]["columns"]
    assert len(columns) >= 2 and not set(columns) & {"source", "split", "direction"}, columns
