"""Records a training run as it happens (log rows, evaluations, best step) for the model card."""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from .samplers import SkipReport, skip_reports


class RunRecorder(TrainerCallback):
    """Keeps what the card needs: the training log, the evaluator's primary metrics, the kept step."""

    def __init__(self, trainer) -> None:
        self.trainer = trainer
        self.log_rows: list[dict[str, Any]] = []
        self.best_step: int | None = None
        self.resumed_from: str | None = None
        self.final_metrics: dict[str, float] = {}
        self.skipped_rows: dict[tuple[int, int], SkipReport] = {}

    def on_train_begin(self, args, state, control, **kwargs) -> None:
        """A model saved during training (the best one so far, by ``fit`` or a callback) gets this run's
        card, loss tags included, as in sentence-transformers; ``train()`` replaces the record at the end."""
        from .training_run import TrainingRun

        model = getattr(self.trainer, "model", None)
        if model is not None and hasattr(model, "save"):
            model.training_run = TrainingRun.from_trainer(self.trainer)

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        if not logs:
            return
        row = {"epoch": state.epoch, "step": state.global_step}
        row.update({k: v for k, v in logs.items() if isinstance(v, (int, float))})
        self.log_rows.append(row)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs) -> None:
        if metrics:
            self.final_metrics = {k[5:] if k.startswith("eval_") else k: v for k, v in metrics.items()}

    def on_epoch_end(self, args, state, control, train_dataloader=None, **kwargs) -> None:
        self._collect_skips(train_dataloader)

    def on_train_end(self, args, state, control, train_dataloader=None, **kwargs) -> None:
        self._collect_skips(train_dataloader)

    def _collect_skips(self, loader: Any) -> None:
        """Keep the rows the training batch sampler left out, per dataset and epoch."""
        for position, report in skip_reports(loader):
            self.skipped_rows[(position, report.epoch)] = report

    def skipped_row_notes(self) -> list[str]:
        """One sentence per dataset and epoch in which training rows were not drawn."""
        data = getattr(self.trainer, "train_dataset", None)
        names = list(data) if isinstance(data, dict) else []
        notes = []
        for (position, _), report in sorted(self.skipped_rows.items()):
            note = report.message()
            if position < len(names) and len(names) > 1:
                note = f"{names[position]}: {note}"
            notes.append(note)
        return notes
