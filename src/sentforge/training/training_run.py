"""What a finished training run leaves on its model for the card: plain data, not the trainer.

`SentenceTransformerTrainer.train()` stores a :class:`TrainingRun` as ``model.training_run``;
``model.save()`` turns it into the card. The record holds what the card reads (arguments, data,
loss, evaluator, log) and nothing that keeps the trainer, its optimizer or its data loaders alive.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainingRun:
    """One run's record: the card's hyperparameters, data, loss, log rows and notes."""

    args: Any
    default_args: dict[str, Any]
    train_dataset: Any = None
    eval_dataset: Any = None
    loss: Any = None
    evaluator: Any = None
    baseline_metrics: dict[str, float] = field(default_factory=dict)
    log_history: list[dict[str, Any]] = field(default_factory=list)
    """The trainer's log entries (the same list: evaluations after training still show)."""
    best_step: int | None = None
    data_doctor_findings: str = ""
    sampler_notes: list[str] = field(default_factory=list)
    interruption_note: str = ""
    """Set when the run stopped part way: the card says so first and shows no evaluation results."""

    @classmethod
    def from_trainer(cls, trainer: Any) -> "TrainingRun":
        """The record of ``trainer``'s run as it stands now."""
        recorder = getattr(trainer, "recorder", None)
        return cls(
            args=trainer.args,
            default_args=dict(getattr(trainer, "_defaults", {}) or {}),
            train_dataset=trainer.train_dataset,
            eval_dataset=trainer.eval_dataset,
            loss=trainer.loss,
            evaluator=trainer.evaluator,
            baseline_metrics=dict(trainer.baseline_metrics or {}),
            log_history=trainer.state.log_history,
            best_step=recorder.best_step if recorder is not None else None,
            data_doctor_findings=getattr(trainer, "data_doctor_findings", "") or "",
            sampler_notes=recorder.skipped_row_notes() if recorder is not None else [],
        )

    def interrupted(self, note: str) -> "TrainingRun":
        """A copy for a model saved part way through training."""
        return dataclasses.replace(self, interruption_note=note)
