"""Records a training run as it happens (log rows, evaluations, best step) for the model card."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback


class RunRecorder(TrainerCallback):
    """Keeps what the card needs: the training log, the evaluator's primary metrics, the kept step."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.log_rows: list[dict[str, Any]] = []
        self.best_step: int | None = None
        self.resumed_from: str | None = None
        self.final_metrics: dict[str, float] = {}

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if not logs:
            return
        row = {"epoch": state.epoch, "step": state.global_step}
        row.update({k: v for k, v in logs.items() if isinstance(v, (int, float))})
        self.log_rows.append(row)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs) -> None:
        if metrics:
            self.final_metrics = {k[5:] if k.startswith("eval_") else k: v for k, v in metrics.items()}
