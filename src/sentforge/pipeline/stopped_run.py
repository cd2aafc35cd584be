"""A run stopped part way (Ctrl-C or an error): save the model as it is, say so in its card, and
leave a checkpoint for --resume."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from .metrics_file import describe_stop, write_metrics
from .reporter import Reporter
from ..training.training_run import TrainingRun


def rescue(model: Any, trainer: Any, output: str, err: BaseException, reporter: Reporter) -> bool:
    """Training stopped part way (Ctrl-C or an error): save the model as it is, its card saying so.
    Returns whether the model was saved."""
    step, total = trainer.state.global_step, trainer.state.max_steps
    if step <= 0:
        return False
    what = "interrupted" if isinstance(err, KeyboardInterrupt) else "stopped by an error"
    model.training_run = TrainingRun.from_trainer(trainer).interrupted(interruption_note(step, total, err))
    try:
        model.save(output)
    except Exception as save_error:  # noqa: BLE001 - report both problems, raise the first
        reporter.say(f"Training {what} at step {step}, and the model could not be saved: {save_error}", style="red")
        return False
    reporter.say(f"Training {what} at step {step}; the model as it was is saved in {output}.", style="yellow")
    return True


def interruption_note(step: int, total: int, err: BaseException) -> str:
    """The card's line for a model saved part way through training."""
    cause = "" if isinstance(err, KeyboardInterrupt) else f" by an error ({describe_stop(err)})"
    of_total = f" of {total}" if total and total > 0 else ""
    return f"**Training was interrupted at step {step}{of_total}{cause}; this model is the state at that step.**"


def save_resume_checkpoint(trainer: Any, reporter: Reporter) -> None:
    """A checkpoint at the step training stopped, for --resume; a failure here is reported, not raised."""
    step = trainer.state.global_step
    try:
        trainer._save_checkpoint(trainer.model, trial=None)
    except Exception as err:  # noqa: BLE001 - the model is saved; the checkpoint is a convenience
        reporter.say(f"No checkpoint to resume from could be saved at step {step}: {describe_stop(err)}", style="red")
        return
    reporter.say("Continue this run with the same command and --resume.", style="yellow")


def write_stopped_metrics(output: str, record: Callable[[], dict[str, Any]], reporter: Reporter) -> None:
    """metrics.json of a stopped run; a failure here must not hide why training stopped."""
    try:
        write_metrics(output, record())
    except Exception as problem:  # noqa: BLE001
        reporter.say(f"metrics.json was not written: {describe_stop(problem)}", style="red")


@contextmanager
def interrupts_deferred(reporter: Reporter) -> Iterator[None]:
    """While a stopped run saves itself, another Ctrl-C is noted and said, not obeyed: a second press
    during the save would otherwise leave neither the model nor the checkpoint."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def noted(*_: Any) -> None:
        reporter.say("Still saving the stopped run (model, metrics, checkpoint); it ends as soon as they are "
                     "written.", style="yellow")

    previous = signal.signal(signal.SIGINT, noted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
