"""A rich progress bar for training: steps, loss, and one line per evaluation with the primary metric."""

from __future__ import annotations

import math
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from transformers import TrainerCallback


class RichProgress(TrainerCallback):
    """Drives a rich Progress from the trainer's events (transformers' own tqdm bar is turned off)."""

    def __init__(self, console: Console, primary_metric: str | None = None) -> None:
        self.console = console
        self.primary_metric = primary_metric
        self.progress: Progress | None = None
        self.task: Any = None
        self.last_loss: float | None = None

    def on_train_begin(self, args, state, control, **kwargs) -> None:
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

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if self.progress is None or not logs or "loss" not in logs:
            return
        loss = logs["loss"]
        if isinstance(loss, (int, float)):
            self.last_loss = float(loss)
            self.progress.update(self.task, loss=f"loss {loss:.4f}")

    def on_evaluate(self, args, state, control, metrics=None, **kwargs) -> None:
        if self.progress is None or not metrics:
            return
        key = f"eval_{self.primary_metric}" if self.primary_metric else None
        value = metrics.get(key) if key else None
        if value is None:
            return
        shown = "n/a (NaN)" if isinstance(value, float) and math.isnan(value) else f"{value:.4f}"
        self.progress.console.print(
            f"step {state.global_step} (epoch {state.epoch or 0:.2f}): {self.primary_metric} = {shown}",
            markup=False, highlight=False,
        )

    def on_train_end(self, args, state, control, **kwargs) -> None:
        self.stop()

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
