"""Training progress: a rich bar on a terminal, a plain line every N seconds elsewhere (a pipe, a log, CI).

Both show steps, loss and time left, and one line per evaluation with the primary metric. The plain
interval is ``SENTFORGE_PROGRESS_SECONDS`` (default 30).
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any, Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback

logger = logging.getLogger(__name__)

INTERVAL_ENV = "SENTFORGE_PROGRESS_SECONDS"
DEFAULT_INTERVAL = 30.0


def progress_interval(value: str | None = None) -> float:
    """Seconds between plain progress lines: ``value`` or the environment variable, else the default."""
    raw = os.environ.get(INTERVAL_ENV) if value is None else value
    if raw is None or not raw.strip():
        return DEFAULT_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        logger.warning("%s=%r is not a number of seconds; using %g.", INTERVAL_ENV, raw, DEFAULT_INTERVAL)
        return DEFAULT_INTERVAL
    return seconds


def format_duration(seconds: float) -> str:
    """42s, 1m02s, 2h05m09s."""
    total = max(int(round(seconds)), 0)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def progress_line(step: int, total: int | None, loss: float | None, elapsed: float, eta: float | None) -> str:
    """``step 120/900 (13%) loss 0.4123 elapsed 1m02s eta 6m40s``."""
    parts = [f"step {step}/{total} ({100 * step // total}%)" if total else f"step {step}"]
    parts.append(f"loss {loss:.4f}" if loss is not None else "loss -")
    parts.append(f"elapsed {format_duration(elapsed)}")
    parts.append(f"eta {format_duration(eta)}" if eta is not None else "eta -")
    return " ".join(parts)


def wants_live_bar(console: Console) -> bool:
    """A live bar needs a terminal that understands cursor moves (or a notebook); anything else gets lines."""
    return console.is_jupyter or (console.is_terminal and not console.is_dumb_terminal)


class RichProgress(TrainerCallback):
    """Training progress from the trainer's events (transformers' own tqdm bar is turned off).

    On a terminal: a rich bar. Otherwise: a plain line every `interval` seconds and one at the end,
    so a piped or CI log shows the run is alive. `clock` is for tests.
    """

    def __init__(self, console: Console, primary_metric: str | None = None, interval: float | None = None,
                 clock: Callable[[], float] = time.monotonic, live: bool | None = None) -> None:
        self.console = console
        self.primary_metric = primary_metric
        self.interval = progress_interval() if interval is None else interval
        self.clock = clock
        self.live = wants_live_bar(console) if live is None else live
        self.progress: Progress | None = None
        self.task: Any = None
        self.last_loss: float | None = None
        self.training = False
        self.started_at = 0.0
        self.start_step = 0
        self.last_line_at = 0.0
        self.last_line_step: int | None = None
        self.total: int | None = None

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        self.training = True
        self.total = state.max_steps or None
        if self.live:
            self._start_bar(state)
            return
        self.started_at = self.last_line_at = self.clock()
        self.start_step = state.global_step
        every = f"; progress every {format_duration(self.interval)}" if self.interval else ""
        self._print(f"Training: {self.total or '?'} steps{every}")

    def _start_bar(self, state) -> None:
        self.progress = Progress(
            TextColumn("[bold]Training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps"),
            TimeElapsedColumn(),
            TextColumn("<"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[loss]}"),
            console=self.console,
            transient=False,
        )
        self.progress.start()
        self.task = self.progress.add_task("train", total=state.max_steps or None, loss="")

    def on_step_end(self, args, state, control, **kwargs) -> None:
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step)
            return
        if self.training and not self.live and self.clock() - self.last_line_at >= self.interval:
            self._print_line(state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if not self.training or not logs or "loss" not in logs:
            return
        loss = logs["loss"]
        if isinstance(loss, (int, float)):
            self.last_loss = float(loss)
            if self.progress is not None:
                self.progress.update(self.task, loss=f"loss {loss:.4f}")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs) -> None:
        if not self.training or not metrics:
            return
        key = f"eval_{self.primary_metric}" if self.primary_metric else None
        value = metrics.get(key) if key else None
        if value is None:
            return
        shown = "n/a (NaN)" if isinstance(value, float) and math.isnan(value) else f"{value:.4f}"
        self._print(f"step {state.global_step} (epoch {state.epoch or 0:.2f}): {self.primary_metric} = {shown}")

    def on_train_end(self, args, state, control, **kwargs) -> None:
        if self.training and not self.live and self.last_line_step != state.global_step:
            self._print_line(state.global_step)
        self.stop()

    def stop(self) -> None:
        """End the bar (idempotent; also called when training stops with an error)."""
        self.training = False
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def _print_line(self, step: int) -> None:
        now = self.clock()
        self.last_line_at, self.last_line_step = now, step
        elapsed = now - self.started_at
        done = step - self.start_step
        eta = None
        if self.total and done > 0:
            eta = elapsed / done * max(self.total - step, 0)
        self._print(progress_line(step, self.total, self.last_loss, elapsed, eta))

    def _print(self, text: str) -> None:
        console = self.progress.console if self.progress is not None else self.console
        console.print(text, markup=False, highlight=False, emoji=False)
