"""`sentforge train --output DIR` never mixes two runs: a used folder is refused unless --overwrite,
a lock keeps a second run out, an interrupted run says so and --resume continues it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import assert_user_error, flat, invoke, write_csv
from test_cli_train import qa_pairs
from transformers import TrainerCallback

LOCK = ".sentforge.lock"
STEPS = 4


@pytest.fixture()
def data(tmp_path) -> Path:
    return write_csv(tmp_path / "pairs.csv", ["question", "answer"], qa_pairs(40))


def train(data: Path, output: Path, base: str, *extra) -> object:
    return invoke("train", data, "--base", base, "--batch-size", 8, "--max-steps", STEPS, "--no-baseline",
                  "--output", output, *extra)


def old_run(folder: Path) -> Path:
    """A folder holding another run's files: a stray file, a checkpoint and a metrics.json."""
    (folder / "training" / "checkpoint-7").mkdir(parents=True)
    (folder / "training" / "checkpoint-7" / "model.safetensors").write_bytes(b"old weights")
    (folder / "old-notes.txt").write_text("from the old run", encoding="utf-8")
    (folder / "metrics.json").write_text('{"old": true}', encoding="utf-8")
    return folder


def metrics_of(output: Path) -> dict:
    return json.loads((output / "metrics.json").read_text(encoding="utf-8"))


def lock_text(pid: int, host: str | None = None) -> str:
    return json.dumps({"pid": pid, "host": host or socket.gethostname(), "started": "2026-01-01T00:00:00"})


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


class StopAt(TrainerCallback):
    """Raise at the end of a step, as Ctrl-C (or a crash) would; notes whether the lock was held then."""

    def __init__(self, step: int, error: BaseException, output: Path) -> None:
        self.step, self.error, self.output = step, error, output
        self.lock_seen: dict | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            lock = self.output / LOCK
            self.lock_seen = json.loads(lock.read_text(encoding="utf-8")) if lock.exists() else None
            raise self.error


def stop_at(monkeypatch, step: int, error: BaseException, output: Path) -> StopAt:
    from sentforge.pipeline import run

    callback = StopAt(step, error, output)
    build = run.build_trainer

    def build_with_stop(*args, **kwargs):
        trainer = build(*args, **kwargs)
        trainer.add_callback(callback)
        return trainer

    monkeypatch.setattr(run, "build_trainer", build_with_stop)
    return callback


# -- a folder that holds another run ---------------------------------------------------------------


def test_a_used_folder_is_refused(tmp_path, data, tiny_bert_dir) -> None:
    output = old_run(tmp_path / "model")
    result = train(data, output, tiny_bert_dir)
    assert_user_error(result, "already holds", "--overwrite", "--resume", "another --output folder")
    assert "Base model:" not in result.output  # refused before anything was loaded
    assert (output / "old-notes.txt").is_file() and metrics_of(output) == {"old": True}
    assert not (output / LOCK).exists()


def test_an_empty_folder_is_used_as_is(tmp_path, data, tiny_bert_dir) -> None:
    output = tmp_path / "model"
    (output / "training").mkdir(parents=True)  # empty folders hold nothing to lose
    result = train(data, output, tiny_bert_dir)
    assert result.exit_code == 0, result.output
    assert metrics_of(output)["status"] == "completed"


def test_overwrite_leaves_nothing_of_the_old_run(tmp_path, data, tiny_bert_dir) -> None:
    output = old_run(tmp_path / "model")
    result = train(data, output, tiny_bert_dir, "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (output / "old-notes.txt").exists()
    assert not (output / "training" / "checkpoint-7").exists()
    record = metrics_of(output)
    assert record["status"] == "completed" and record["steps"] == STEPS and "old" not in record
    assert not (output / LOCK).exists()


def test_overwrite_keeps_the_old_run_when_the_data_is_refused(tmp_path, tiny_bert_dir) -> None:
    rows = [(q, a, float(i % 2)) for i, (q, a) in enumerate(qa_pairs(24))]
    rows[3] = (rows[3][0], rows[3][1], "")
    bad = write_csv(tmp_path / "labels.csv", ["sentence1", "sentence2", "label"], rows)
    output = old_run(tmp_path / "model")
    assert_user_error(train(bad, output, tiny_bert_dir, "--overwrite"), "nan-label")
    assert (output / "old-notes.txt").is_file() and metrics_of(output) == {"old": True}
    assert not (output / LOCK).exists()


def test_overwrite_never_deletes_the_training_data(tmp_path, tiny_bert_dir) -> None:
    output = tmp_path / "model"
    output.mkdir()
    inside = write_csv(output / "pairs.csv", ["question", "answer"], qa_pairs(40))
    assert_user_error(train(inside, output, tiny_bert_dir, "--overwrite"), "--overwrite", "pairs.csv")
    assert inside.is_file()


def test_runs_without_output_do_not_share_one_folder() -> None:
    from sentforge.pipeline.plan import build_plan

    first, second = (build_plan(name, None, {}).output for name in ("jobs.csv", "faq.csv"))
    assert first != second and first.endswith("all-MiniLM-L6-v2-jobs")


def test_resume_and_overwrite_together_are_refused(tmp_path, data, tiny_bert_dir) -> None:
    assert_user_error(train(data, tmp_path / "model", tiny_bert_dir, "--resume", "--overwrite"),
                      "--resume", "--overwrite")


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path, data, tiny_bert_dir) -> None:
    output = old_run(tmp_path / "model")
    assert_user_error(train(data, output, tiny_bert_dir, "--resume"), "no complete checkpoint", "--resume")
    assert_user_error(train(data, tmp_path / "nothing-here", tiny_bert_dir, "--resume"), "no complete checkpoint")
    assert not (tmp_path / "nothing-here").exists()


# -- the lock --------------------------------------------------------------------------------------


def test_a_running_run_keeps_a_second_one_out(tmp_path, data, tiny_bert_dir) -> None:
    output = tmp_path / "model"
    output.mkdir()
    held = lock_text(os.getpid())  # this process is alive: the folder is in use
    (output / LOCK).write_text(held, encoding="utf-8")
    result = train(data, output, tiny_bert_dir)
    assert_user_error(result, f"pid {os.getpid()}", "another --output folder")
    assert (output / LOCK).read_text(encoding="utf-8") == held  # the other run's lock is left alone
    assert not (output / "metrics.json").exists()


def test_a_stale_lock_is_taken_over(tmp_path, data, tiny_bert_dir) -> None:
    output = tmp_path / "model"
    output.mkdir()
    pid = dead_pid()
    (output / LOCK).write_text(lock_text(pid), encoding="utf-8")
    result = train(data, output, tiny_bert_dir)
    assert result.exit_code == 0, result.output
    assert "stale lock" in flat(result.output) and str(pid) in flat(result.output)
    assert metrics_of(output)["status"] == "completed"
    assert not (output / LOCK).exists()


def test_lock_is_exclusive_and_released(tmp_path) -> None:
    from sentforge.pipeline.run_folder import RunLock
    from sentforge.errors import SentforgeError

    folder = tmp_path / "run"
    with RunLock(folder):
        record = json.loads((folder / LOCK).read_text(encoding="utf-8"))
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname() and record["started"]
        with pytest.raises(SentforgeError, match=f"pid {os.getpid()}"):
            RunLock(folder).acquire()
        assert (folder / LOCK).exists()
    assert not (folder / LOCK).exists()


def test_a_lock_from_another_host_is_not_taken_over(tmp_path) -> None:
    from sentforge.pipeline.run_folder import RunLock
    from sentforge.errors import SentforgeError

    folder = tmp_path / "run"
    folder.mkdir()
    (folder / LOCK).write_text(lock_text(dead_pid(), host="some-other-machine"), encoding="utf-8")
    with pytest.raises(SentforgeError, match="some-other-machine"):
        RunLock(folder).acquire()


def test_release_leaves_a_lock_that_is_not_ours(tmp_path) -> None:
    from sentforge.pipeline.run_folder import RunLock

    folder = tmp_path / "run"
    lock = RunLock(folder)
    lock.acquire()
    (folder / LOCK).write_text(lock_text(os.getpid() + 1), encoding="utf-8")
    lock.release()
    assert (folder / LOCK).exists()


# -- interrupted runs and --resume ------------------------------------------------------------------


def test_ctrl_c_is_recorded_and_resume_finishes_the_run(tmp_path, data, tiny_bert_dir, monkeypatch) -> None:
    straight = tmp_path / "straight"
    assert train(data, straight, tiny_bert_dir).exit_code == 0

    output = tmp_path / "model"
    callback = stop_at(monkeypatch, 2, KeyboardInterrupt(), output)
    result = train(data, output, tiny_bert_dir)
    assert result.exit_code == 130, result.output
    assert callback.lock_seen is not None and callback.lock_seen["pid"] == os.getpid()
    assert not (output / LOCK).exists()
    record = metrics_of(output)
    assert record["status"] == "interrupted" and record["interrupted_at_step"] == 2 and record["steps"] == 2
    assert "KeyboardInterrupt" in record["interrupted_by"]
    card = (output / "README.md").read_text(encoding="utf-8")
    assert f"Training was interrupted at step 2 of {STEPS}; this model is the state at that step." in card
    assert (output / "training" / "checkpoint-2" / "trainer_state.json").is_file()
    assert "--resume" in flat(result.output)

    monkeypatch.undo()
    result = train(data, output, tiny_bert_dir)  # a second run, without --resume, is refused
    assert_user_error(result, "--resume")
    result = train(data, output, tiny_bert_dir, "--resume")
    assert result.exit_code == 0, result.output
    record = metrics_of(output)
    assert record["status"] == "completed" and "interrupted_at_step" not in record
    assert record["steps"] == metrics_of(straight)["steps"] == STEPS
    assert record["resumed_from_step"] == 2
    assert "interrupted" not in (output / "README.md").read_text(encoding="utf-8")
    assert not list((output / "training").glob("checkpoint-*"))
    a, b = load_file(str(straight / "model.safetensors")), load_file(str(output / "model.safetensors"))
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5  # the same run, in two halves


def test_an_error_mid_training_is_recorded(tmp_path, data, tiny_bert_dir, monkeypatch) -> None:
    output = tmp_path / "model"
    stop_at(monkeypatch, 2, RuntimeError("disk unplugged"), output)
    result = train(data, output, tiny_bert_dir)
    assert isinstance(result.exception, RuntimeError)
    record = metrics_of(output)
    assert record["status"] == "interrupted" and record["interrupted_at_step"] == 2
    assert "disk unplugged" in record["interrupted_by"]
    card = (output / "README.md").read_text(encoding="utf-8")
    assert f"interrupted at step 2 of {STEPS}" in card and "disk unplugged" in card
    assert not (output / LOCK).exists()
    assert torch.is_tensor(next(iter(load_file(str(output / "model.safetensors")).values())))


def test_resume_with_other_data_is_refused_and_says_what_changed(tmp_path, data, tiny_bert_dir, monkeypatch) -> None:
    output = tmp_path / "model"
    stop_at(monkeypatch, 2, KeyboardInterrupt(), output)
    assert train(data, output, tiny_bert_dir).exit_code == 130
    monkeypatch.undo()
    other = tmp_path / "other.csv"
    lines = data.read_text(encoding="utf-8").splitlines()
    other.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")  # same rows, new order
    result = train(other, output, tiny_bert_dir, "--resume")
    assert_user_error(result, "--resume would continue the run")
    assert "train_data: " in flat(result.output) and "other.csv" in flat(result.output)
    assert (output / "training" / "checkpoint-2").is_dir()  # the interrupted run is still there to resume
    assert train(data, output, tiny_bert_dir, "--resume").exit_code == 0


def test_a_second_ctrl_c_while_saving_is_said_not_obeyed() -> None:
    import signal

    from sentforge.pipeline import ListReporter
    from sentforge.pipeline.stopped_run import interrupts_deferred

    reporter = ListReporter()
    before = signal.getsignal(signal.SIGINT)
    with interrupts_deferred(reporter):
        os.kill(os.getpid(), signal.SIGINT)  # would raise KeyboardInterrupt in the middle of the save
        saved = True
    assert saved and any("Still saving the stopped run" in line for line in reporter.lines)
    assert signal.getsignal(signal.SIGINT) is before
