"""One training run, top to bottom: pre-flight (data, model, loss, doctor, evaluator), baseline,
training, save, metrics.json. It prints nothing: what it has to say goes to a Reporter.

Nothing trained is ever lost: the model is saved before the summary is written, and an interrupted
run saves the model as it was.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ..errors import SentforgeError
from .metrics_file import METRICS_FILE, checkpoint_step, metrics_record, write_metrics
from .models import load_model
from .token_memo import RunTokenMemo
from .plan import TrainPlan
from .preflight import preflight
from .prepare import PreparedData
from .recipe_search import search_recipe
from .recipe_steps import RecipeSteps, mine_if_chosen, truncated_baseline, truncated_final
from .reporter import NullReporter, Reporter
from .run_folder import clear_run_folder, resume_checkpoint
from .run_signature import check_same_run, run_signature, write_signature
from .stopped_run import interrupts_deferred, rescue, save_resume_checkpoint, write_stopped_metrics
from .trainer_setup import build_trainer, remove_checkpoints, training_arguments


class Timer:
    """Wall-clock seconds per phase, in the order the phases ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    def phase(self, name: str, since: float) -> None:
        self.seconds[name] = round(time.perf_counter() - since, 3)

    def total(self) -> dict[str, float]:
        return {**self.seconds, "total": round(time.perf_counter() - self.start, 3)}


def execute(plan: TrainPlan, reporter: Reporter | None = None) -> dict[str, Any]:
    """Run the plan; returns the metrics.json record. User errors raise SentforgeError."""
    with RunTokenMemo() as memo:  # each text is tokenized once for the doctor, training and the card
        return _execute(plan, reporter, memo.loading(load_model))


def _execute(plan: TrainPlan, reporter: Reporter | None, load_model: Any) -> dict[str, Any]:
    reporter = reporter or NullReporter()
    check_output_folder(plan.output)
    timer = Timer()
    checked = preflight(plan, load_model, reporter)
    timer.seconds.update(checked.seconds)
    model, data, loss, report, evaluator = checked.model, checked.data, checked.loss, checked.report, checked.evaluator
    reporter.findings(report)
    if not report.ok:
        raise SentforgeError(doctor_stop_message(report, "training did not start"))
    if evaluator is None:
        reporter.say("Evaluator: none (no evaluation data): the run cannot show whether the model improved.", style="yellow")
    else:
        reporter.say(f"Evaluator: {evaluator.reason}")
    steps = RecipeSteps(checked.recipe)
    steps.mining = mine_if_chosen(plan, checked, reporter, timer.seconds)
    if plan.search and checked.recipe is not None:
        steps.search = search_recipe(plan, checked, load_model, reporter, timer.seconds)
        loss = checked.loss
    args = training_arguments(plan, data, evaluator.value if evaluator else None, loss.value)
    primary = evaluator.value.primary_metric if evaluator else None
    progress = reporter.progress(primary)
    trainer = build_trainer(model, args, data, loss.value, evaluator.value if evaluator else None,
                            [progress] if progress is not None else [])
    trainer.data_doctor_findings = _with_notes(report.to_markdown(), steps)
    _name_datasets(model, plan, data)
    _prepare_folder(plan, reporter, run_signature(plan, data, loss.value, evaluator.value if evaluator else None))
    baseline = _baseline(trainer, plan, timer)
    if baseline:
        truncated_baseline(steps, trainer.evaluator, model, timer.seconds)
    began = time.perf_counter()
    try:
        trainer.train(resume_from_checkpoint=True if plan.resume else None)
    except BaseException as err:
        _stop(progress)
        timer.phase("train", began)
        with interrupts_deferred(reporter):
            if rescue(model, trainer, plan.output, err, reporter):
                write_stopped_metrics(plan.output, lambda: metrics_record(
                    plan, data, loss, evaluator, report, baseline, {}, trainer, timer.total(), stopped_by=err),
                    reporter)
                save_resume_checkpoint(trainer, reporter)
        raise
    _stop(progress)
    timer.phase("train", began)
    final, final_error = _final_metrics(trainer, timer)
    truncated_final(steps, trainer.evaluator, model, final, baseline, reporter, timer.seconds)
    model.training_run.data_doctor_findings = _with_notes(report.to_markdown(), steps)
    began = time.perf_counter()
    model.save(plan.output)
    remove_checkpoints(plan.output)
    timer.phase("save", began)
    record = {**metrics_record(plan, data, loss, evaluator, report, baseline, final, trainer, timer.total()),
              **steps.record()}
    write_metrics(plan.output, record)
    nan_reasons = getattr(evaluator.value, "nan_reasons", {}) if evaluator else {}
    _summary(reporter, plan.output, baseline, final, primary, nan_reasons)
    if final_error is not None:
        raise SentforgeError(f"The model is saved in {plan.output}, but the final evaluation failed: {final_error}")
    return record


def _with_notes(findings: str, steps: RecipeSteps) -> str:
    """The data doctor's findings for the card, followed by the recipe, mining and Matryoshka notes."""
    notes = steps.card_notes()
    return f"{findings}\n\n{notes}" if notes else findings


def _stop(progress: Any) -> None:
    if progress is not None and hasattr(progress, "stop"):
        progress.stop()


def check_output_folder(output: str) -> None:
    """Fail before training, not after, when the model could not be saved where asked."""
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise SentforgeError(f"--output '{output}' is a file, not a folder. Choose a folder for the model.")
    parent = next((p for p in [path, *path.parents] if p.exists()), Path.cwd())
    if not os.access(parent, os.W_OK):
        raise SentforgeError(f"Cannot write to '{parent}' (no permission). Choose another --output folder.")


def _prepare_folder(plan: TrainPlan, reporter: Reporter, signature: dict[str, Any]) -> None:
    """--overwrite: the old run's files go now, once this run's data and model have passed their checks.
    --resume: check that the run continues with what it started with, and say from which checkpoint.
    A new run keeps its signature beside its checkpoints."""
    if plan.resume:
        check_same_run(plan.output, signature)
        checkpoint = resume_checkpoint(plan.output)
        reporter.say(f"Resuming the run in {plan.output} from {Path(checkpoint).name} (step {checkpoint_step(checkpoint)}).")
        return
    if plan.overwrite:
        removed = clear_run_folder(plan.output)
        if removed:
            reporter.say(f"--overwrite: deleted the previous run's files in {plan.output} ({', '.join(removed)}).",
                         style="yellow")
    write_signature(plan.output, signature)


def doctor_stop_message(report: Any, what: str) -> str:
    """One message naming each error the data doctor found and its fix."""
    lines = [f"- {f.code} ({f.dataset}): {f.message} Fix: {f.fix}" for f in report.errors]
    count = f"{len(report.errors)} error{'s' if len(report.errors) > 1 else ''}"
    return f"The data doctor found {count}, so {what}:\n" + "\n".join(lines)


def _name_datasets(model: Any, plan: TrainPlan, data: PreparedData) -> None:
    card_data = getattr(model, "model_card_data", None)
    if card_data is None:
        return
    card_data.train_datasets = [{"name": _short_name(plan.train)}]
    if data.eval is not None:
        card_data.eval_datasets = [{"name": data.eval_name}]


def _short_name(source: str) -> str:
    path = Path(source)
    return path.stem if path.suffix else source


def _baseline(trainer: Any, plan: TrainPlan, timer: Timer) -> dict[str, float]:
    """Evaluate the base model before training (what the fine-tuned model is compared with)."""
    if trainer.evaluator is None or not plan.baseline:
        trainer.baseline_metrics = {}
        return {}
    began = time.perf_counter()
    trainer.baseline_metrics = trainer.run_evaluator(write_csv=False)
    timer.phase("baseline_eval", began)
    return dict(trainer.baseline_metrics)


def _final_metrics(trainer: Any, timer: Timer) -> tuple[dict[str, float], str | None]:
    """Evaluate the kept model; an error here is reported after the model is saved, never before."""
    if trainer.evaluator is None:
        return {}, None
    began = time.perf_counter()
    try:
        metrics = trainer.run_evaluator()
    except Exception as err:  # noqa: BLE001 - the model must be saved first, whatever went wrong
        return {}, f"{type(err).__name__}: {err}"
    timer.phase("final_eval", began)
    return metrics, None



def _summary(
    reporter: Reporter, output: str, baseline: dict, final: dict, primary: str | None, nan_reasons: dict[str, str]
) -> None:
    """The baseline vs fine-tuned table, NaN explained, and where the model, card and metrics are."""
    if final:
        columns = {"Baseline": baseline, "Fine-tuned": final} if baseline else {"Fine-tuned": final}
        reporter.metrics("Baseline vs fine-tuned", columns, primary, nan_reasons)
    reporter.say(f"Model saved to {output}", style="bold green")
    card = Path(output) / "README.md"
    reporter.say(f"Model card: {card}" if card.is_file() else f"Model card: not written (regenerate with `sentforge card {output}`)")
    reporter.say(f"Metrics: {Path(output) / METRICS_FILE}")
