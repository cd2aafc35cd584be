"""Progress when the output is not a terminal (a pipe, `| tee log`, CI): a plain line every N seconds with
steps, loss and ETA, and no live-bar escape sequences; a terminal keeps the rich bar."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from rich.console import Console

from sentforge.commands.progress import RichProgress, format_duration, progress_interval, progress_line

ESCAPE = "\x1b"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _piped_console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=160), buffer


def _run(progress: RichProgress, clock: FakeClock, steps: int, seconds_per_step: float, log_every: int = 10) -> SimpleNamespace:
    """Drive the callback as transformers' Trainer does, the clock advancing each step."""
    state = SimpleNamespace(global_step=0, max_steps=steps, epoch=0.0)
    args = control = SimpleNamespace()
    progress.on_train_begin(args, state, control)
    for step in range(1, steps + 1):
        clock.now += seconds_per_step
        state.global_step, state.epoch = step, step / steps
        if step % log_every == 0:
            progress.on_log(args, state, control, logs={"loss": 1.0 / step})
        progress.on_step_end(args, state, control)
        if step == steps // 2:
            progress.on_evaluate(args, state, control, metrics={"eval_valid_spearman": 0.5})
    progress.on_train_end(args, state, control)
    return state


def test_plain_lines_every_interval_with_steps_loss_and_eta() -> None:
    console, buffer = _piped_console()
    clock = FakeClock()
    progress = RichProgress(console, "valid_spearman", interval=30, clock=clock)
    _run(progress, clock, steps=900, seconds_per_step=0.5)  # 450 s in all: a line every 60 steps
    lines = buffer.getvalue().splitlines()
    assert lines[0] == "Training: 900 steps; progress every 30s"
    step_lines = [line for line in lines if re.match(r"step \d+/900 ", line)]
    assert [int(re.match(r"step (\d+)/", line).group(1)) for line in step_lines] == list(range(60, 901, 60))
    assert step_lines[1] == "step 120/900 (13%) loss 0.0083 elapsed 1m00s eta 6m30s"
    assert step_lines[-1] == "step 900/900 (100%) loss 0.0011 elapsed 7m30s eta 0s"
    assert "step 450 (epoch 0.50): valid_spearman = 0.5000" in lines
    assert ESCAPE not in buffer.getvalue()


def test_no_line_before_the_interval_and_loss_unknown_until_logged() -> None:
    console, buffer = _piped_console()
    clock = FakeClock()
    progress = RichProgress(console, interval=30, clock=clock)
    _run(progress, clock, steps=20, seconds_per_step=1, log_every=1000)  # 20 s: only the closing line
    lines = buffer.getvalue().splitlines()
    assert lines == ["Training: 20 steps; progress every 30s", "step 20/20 (100%) loss - elapsed 20s eta 0s"]


def test_interval_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("SENTFORGE_PROGRESS_SECONDS", "5")
    console, buffer = _piped_console()
    clock = FakeClock()
    progress = RichProgress(console, clock=clock)
    assert progress.interval == 5
    _run(progress, clock, steps=12, seconds_per_step=1)
    steps = [line.split("/")[0] for line in buffer.getvalue().splitlines()[1:]]
    assert steps == ["step 5", "step 10", "step 12"]


@pytest.mark.parametrize(("raw", "seconds"), [(None, 30.0), ("", 30.0), ("2.5", 2.5), ("soon", 30.0), ("-1", 30.0)])
def test_progress_interval(monkeypatch, raw, seconds) -> None:
    monkeypatch.delenv("SENTFORGE_PROGRESS_SECONDS", raising=False)
    if raw is not None:
        monkeypatch.setenv("SENTFORGE_PROGRESS_SECONDS", raw)
    assert progress_interval() == seconds


def test_formats() -> None:
    assert [format_duration(s) for s in (0, 42, 62, 400, 7509)] == ["0s", "42s", "1m02s", "6m40s", "2h05m09s"]
    assert progress_line(120, 900, 0.41234, 62, 400) == "step 120/900 (13%) loss 0.4123 elapsed 1m02s eta 6m40s"
    assert progress_line(7, None, None, 3, None) == "step 7 loss - elapsed 3s eta -"


def test_a_terminal_keeps_the_rich_bar() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=100, force_terminal=True)
    clock = FakeClock()
    progress = RichProgress(console, interval=30, clock=clock)
    assert progress.live
    _run(progress, clock, steps=5, seconds_per_step=100)
    output = buffer.getvalue()
    assert "Training" in output and "5/5" in output and ESCAPE in output
    assert not re.search(r"^step \d+/5 ", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output), re.M)
