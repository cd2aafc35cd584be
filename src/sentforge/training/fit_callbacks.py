"""Trainer callbacks that give ``fit`` the behaviour of the v2 training loop.

Evaluate at every epoch end (besides every ``evaluation_steps``), save the best model to
``output_path``, and call the user's ``callback(score, epoch, steps)`` after each evaluation.
"""

from __future__ import annotations

import os
from typing import Any, Callable

from transformers import TrainerCallback


def _primary_key(evaluator: Any) -> str:
    return getattr(evaluator, "primary_metric", None) or "evaluator"


def primary_score(evaluator: Any, metrics: dict[str, Any]) -> float | None:
    """The evaluator's primary metric among the trainer's (``eval_``-prefixed) metrics, or None."""
    key = _primary_key(evaluator)
    for name, value in metrics.items():
        if name.endswith(key):
            return value
    return None


class EvaluatorCallback(TrainerCallback):
    """Runs the evaluator at each epoch end and reports its metrics as an evaluation to the trainer."""

    def __init__(self, evaluator: Any, output_path: str | None = None) -> None:
        self.evaluator = evaluator
        self.output_path = None if output_path is None else os.path.join(output_path, "eval")
        if self.output_path is not None:
            os.makedirs(self.output_path, exist_ok=True)
        self.trainer: Any = None

    def on_epoch_end(self, args, state, control, model=None, **kwargs) -> None:
        metrics = self.evaluator(model, output_path=self.output_path, epoch=state.epoch, steps=state.global_step)
        if not isinstance(metrics, dict):
            metrics = {"evaluator": metrics}
        metrics = {key if key.startswith("eval_") else f"eval_{key}": value for key, value in metrics.items()}
        if self.trainer is not None:
            self.trainer.callback_handler.on_evaluate(args, state, control, metrics=metrics)


class SaveModelCallback(TrainerCallback):
    """Saves to ``output_dir``: after each evaluation that beats the best score so far (with an evaluator
    and ``save_best_model``); the final model is saved by ``fit`` when there is no evaluator."""

    def __init__(self, output_dir: str, evaluator: Any, save_best_model: bool) -> None:
        self.output_dir = output_dir
        self.evaluator = evaluator
        self.save_best_model = save_best_model
        self.best_metric: float | None = None

    def _is_better(self, value: float) -> bool:
        if self.best_metric is None:
            return True
        if getattr(self.evaluator, "greater_is_better", True):
            return value > self.best_metric
        return value < self.best_metric

    def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs) -> None:
        if self.evaluator is None or not self.save_best_model or model is None:
            return
        score = primary_score(self.evaluator, metrics or {})
        if score is not None and self._is_better(score):
            self.best_metric = score
            model.save(self.output_dir)


class OriginalCallback(TrainerCallback):
    """Calls the v2 ``callback(score, epoch, steps)`` with the primary metric after each evaluation."""

    def __init__(self, callback: Callable[[float, int, int], None], evaluator: Any) -> None:
        self.callback = callback
        self.evaluator = evaluator

    def on_evaluate(self, args, state, control, metrics=None, **kwargs) -> None:
        score = primary_score(self.evaluator, metrics or {})
        if score is not None:
            self.callback(score, state.epoch, state.global_step)
