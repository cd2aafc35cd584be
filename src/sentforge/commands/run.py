"""One training run, top to bottom: model, data, choices, doctor, baseline, training, save, metrics.json.

Nothing trained is ever lost: the model is saved before the summary is written, and an interrupted
run saves the model as it was.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sentforge.commands import console as out
from sentforge.commands.choose import Choice, choose_evaluator, choose_loss, wants_scores
from sentforge.commands.doctor import run_doctor
from sentforge.commands.models import load_model, shape_model
from sentforge.commands.plan import TrainPlan
from sentforge.commands.prepare import PreparedData, prepare, rescale_scores
from sentforge.commands.progress import RichProgress
from sentforge.commands.run_folder import clear_run_folder, resume_checkpoint
from sentforge.commands.trainer_setup import build_trainer, remove_checkpoints, training_arguments
from sentforge.errors import SentforgeError

METRICS_FILE = "metrics.json"


class Timer:
    """Wall-clock seconds per phase, in the order the phases ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.start = time.perf_counter()

    def phase(self, name: str, since: float) -> None:
        self.seconds[name] = round(time.perf_counter() - since, 3)

    def total(self) -> dict[str, float]:
        return {**self.seconds, "total": round(time.perf_counter() - self.start, 3)}


def setup(plan: TrainPlan, timer: Timer) -> tuple[Any, PreparedData, Choice]:
    """Load the data (first: a bad file fails fast), then the base model, and pick the loss; prints what it did."""
    began = time.perf_counter()
    data = prepare(plan.train, plan.eval, columns=plan.columns, eval_columns=plan.eval_columns,
                   seed=plan.seed, recipe=plan.recipe is not None)
    timer.phase("load_data", began)
    began = time.perf_counter()
    out.say(f"Base model: {plan.base}" + (f"   Recipe: {plan.recipe}" if plan.recipe else ""))
    model = load_model(plan.base)
    for note in shape_model(model, plan.max_seq_length, plan.normalize):
        out.say(note)
    timer.phase("load_model", began)
    source = "the recipe" if plan.recipe and plan.loss_from_recipe else "--loss"
    loss = choose_loss(model, data, plan.loss, plan.loss_params, source)
    if wants_scores(loss.value):
        rescale_scores(data, any_scale=plan.loss.lower() == "auto")
    columns = ", ".join(data.train.column_names)
    out.say(f"Training data: {plan.train} ({len(data.train)} rows; columns {columns})")
    for note in data.notes:
        out.say(note)
    out.say(f"Task: {data.roles.task}. Loss: {loss.name}. Why: {loss.reason}")
    return model, data, loss


def execute(plan: TrainPlan) -> dict[str, Any]:
    """Run the plan; returns the metrics.json record. User errors raise SentforgeError."""
    out.quiet_libraries()
    check_output_folder(plan.output)
    timer = Timer()
    model, data, loss = setup(plan, timer)
    began = time.perf_counter()
    report = run_doctor(model, data, loss.value, batch_size=plan.batch_size, epochs=plan.epochs,
                        allow_inverted=plan.allow_inverted, seed=plan.seed)
    timer.phase("data_doctor", began)
    out.print_findings(report)
    if not report.ok:
        raise SentforgeError(doctor_stop_message(report, "training did not start"))
    evaluator = choose_evaluator(model, data, plan.evaluator, plan.batch_size)
    if evaluator is None:
        out.say("Evaluator: none (no evaluation data): the run cannot show whether the model improved.", style="yellow")
    else:
        out.say(f"Evaluator: {evaluator.reason}")
    args = training_arguments(plan, data, evaluator.value if evaluator else None, loss.value)
    primary = evaluator.value.primary_metric if evaluator else None
    progress = RichProgress(out.console, primary)
    trainer = build_trainer(model, args, data, loss.value, evaluator.value if evaluator else None, [progress])
    trainer.data_doctor_findings = report.to_markdown()
    _name_datasets(model, plan, data)
    _prepare_folder(plan)
    baseline = _baseline(trainer, plan, timer)
    began = time.perf_counter()
    try:
        trainer.train(resume_from_checkpoint=True if plan.resume else None)
    except BaseException as err:
        progress.stop()
        timer.phase("train", began)
        if _rescue(model, trainer, plan.output, err):
            _write_stopped_metrics(plan.output, lambda: metrics_record(
                plan, data, loss, evaluator, report, baseline, {}, trainer, timer, stopped_by=err))
            _save_resume_checkpoint(trainer)
        raise
    progress.stop()
    timer.phase("train", began)
    final, final_error = _final_metrics(trainer, timer)
    began = time.perf_counter()
    model.save(plan.output)
    remove_checkpoints(plan.output)
    timer.phase("save", began)
    record = metrics_record(plan, data, loss, evaluator, report, baseline, final, trainer, timer)
    write_metrics(plan.output, record)
    summary(plan.output, baseline, final, primary, getattr(evaluator.value, "nan_reasons", {}) if evaluator else {})
    if final_error is not None:
        raise SentforgeError(f"The model is saved in {plan.output}, but the final evaluation failed: {final_error}")
    return record


def check_output_folder(output: str) -> None:
    """Fail before training, not after, when the model could not be saved where asked."""
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise SentforgeError(f"--output '{output}' is a file, not a folder. Choose a folder for the model.")
    parent = next((p for p in [path, *path.parents] if p.exists()), Path.cwd())
    if not os.access(parent, os.W_OK):
        raise SentforgeError(f"Cannot write to '{parent}' (no permission). Choose another --output folder.")


def _prepare_folder(plan: TrainPlan) -> None:
    """--overwrite: the old run's files go now, once this run's data and model have passed their checks.
    --resume: say which checkpoint the run continues from."""
    if plan.resume:
        checkpoint = resume_checkpoint(plan.output)
        step = _checkpoint_step(checkpoint)
        out.say(f"Resuming the run in {plan.output} from {Path(checkpoint).name} (step {step}).")
        return
    if not plan.overwrite:
        return
    removed = clear_run_folder(plan.output)
    if removed:
        names = ", ".join(removed)
        out.say(f"--overwrite: deleted the previous run's files in {plan.output} ({names}).", style="yellow")


def _rescue(model: Any, trainer: Any, output: str, err: BaseException) -> bool:
    """Training stopped part way (Ctrl-C or an error): save the model as it is, its card saying so.
    Returns whether the model was saved."""
    step, total = trainer.state.global_step, trainer.state.max_steps
    if step <= 0:
        return False
    what = "interrupted" if isinstance(err, KeyboardInterrupt) else "stopped by an error"
    model._card_writer = _interrupted_card(trainer, interruption_note(step, total, err))
    try:
        model.save(output)
    except Exception as save_error:  # noqa: BLE001 - report both problems, raise the first
        out.say(f"Training {what} at step {step}, and the model could not be saved: {save_error}", style="red")
        return False
    out.say(f"Training {what} at step {step}; the model as it was is saved in {output}.", style="yellow")
    return True


def interruption_note(step: int, total: int, err: BaseException) -> str:
    """The card's line for a model saved part way through training."""
    cause = "" if isinstance(err, KeyboardInterrupt) else f" by an error ({_describe(err)})"
    of_total = f" of {total}" if total and total > 0 else ""
    return f"**Training was interrupted at step {step}{of_total}{cause}; this model is the state at that step.**"


def _describe(err: BaseException) -> str:
    if isinstance(err, KeyboardInterrupt):
        return "KeyboardInterrupt (Ctrl-C)"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _interrupted_card(trainer: Any, note: str) -> Any:
    """The card writer for a model saved part way: the run so far, the note first in its findings, and no
    evaluation results (those were measured on an earlier state of the model)."""
    import dataclasses

    from sentforge.training.card_record import build_run_info

    def run_info(model: Any) -> Any:
        info = build_run_info(trainer, model)
        findings = f"{note}\n\n{info.data_doctor_findings}".strip()
        return dataclasses.replace(info, evaluator_results=[], data_doctor_findings=findings)

    return run_info


def _save_resume_checkpoint(trainer: Any) -> None:
    """A checkpoint at the step training stopped, for --resume; a failure here is reported, not raised."""
    step = trainer.state.global_step
    try:
        trainer._save_checkpoint(trainer.model, trial=None)
    except Exception as err:  # noqa: BLE001 - the model is saved; the checkpoint is a convenience
        out.say(f"No checkpoint to resume from could be saved at step {step}: {_describe(err)}", style="red")
        return
    out.say("Continue this run with the same command and --resume.", style="yellow")


def _write_stopped_metrics(output: str, record: Callable[[], dict[str, Any]]) -> None:
    """metrics.json of a stopped run; a failure here must not hide why training stopped."""
    try:
        write_metrics(output, record())
    except Exception as problem:  # noqa: BLE001
        out.say(f"metrics.json was not written: {_describe(problem)}", style="red")


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
    trainer.baseline_metrics = trainer.run_evaluator()
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


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def metrics_record(
    plan: TrainPlan, data: PreparedData, loss: Choice, evaluator: Choice | None, report: Any,
    baseline: dict[str, float], final: dict[str, float], trainer: Any, timer: Timer,
    stopped_by: BaseException | None = None,
) -> dict[str, Any]:
    """Everything worth keeping about the run, JSON-ready (NaN metrics become null with a reason).

    ``stopped_by``: what ended a run part way (Ctrl-C or an error); the record then says
    "status": "interrupted" and at which step, else "status": "completed".
    """
    nan_reasons = dict(getattr(evaluator.value, "nan_reasons", {}) or {}) if evaluator else {}
    return {
        **run_status(trainer, stopped_by),
        "base_model": plan.base,
        "recipe": plan.recipe,
        "output": str(plan.output),
        "data": {
            "train": plan.train,
            "train_rows": len(data.train),
            "columns": data.train.column_names,
            "task": data.roles.task,
            "eval": data.eval_description or None,
            "eval_rows": len(data.eval) if data.eval is not None else 0,
            "held_out_rows": data.held_out,
            "notes": data.notes,
        },
        "loss": {"name": loss.name, "reason": loss.reason},
        "evaluator": (
            {"name": evaluator.name, "reason": evaluator.reason, "primary_metric": evaluator.value.primary_metric}
            if evaluator else None
        ),
        "baseline": {k: _json_number(v) for k, v in baseline.items()},
        "final": {k: _json_number(v) for k, v in final.items()},
        "nan_reasons": {k: v for k, v in nan_reasons.items() if k in final or k in baseline},
        "steps": trainer.state.global_step,
        "total_steps": trainer.state.max_steps,
        "resumed_from_step": _checkpoint_step(getattr(trainer.recorder, "resumed_from", None)),
        "best_step": getattr(trainer.recorder, "best_step", None),
        "data_doctor": report.to_dict(),
        "timings_s": timer.total(),
    }


def run_status(trainer: Any, stopped_by: BaseException | None) -> dict[str, Any]:
    """The run's status for metrics.json: "completed", or "interrupted" with the step and its cause."""
    if stopped_by is None:
        return {"status": "completed"}
    return {"status": "interrupted", "interrupted_at_step": trainer.state.global_step,
            "interrupted_by": _describe(stopped_by)}


def _checkpoint_step(checkpoint: str | None) -> int | None:
    """The step of a `checkpoint-N` folder (the one a resumed run started from)."""
    if not checkpoint:
        return None
    tail = Path(checkpoint).name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def write_metrics(output: str, record: dict[str, Any]) -> Path:
    """Write ``metrics.json`` into the output folder."""
    path = Path(output) / METRICS_FILE
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n", encoding="utf-8")
    return path


def summary(output: str, baseline: dict, final: dict, primary: str | None, nan_reasons: dict[str, str]) -> None:
    """The baseline vs fine-tuned table, NaN explained, and where the model, card and metrics are."""
    if final:
        columns = {"Baseline": baseline, "Fine-tuned": final} if baseline else {"Fine-tuned": final}
        out.console.print(out.metrics_table("Baseline vs fine-tuned", columns, primary))
        out.print_nan_reasons({**baseline, **final}, nan_reasons)
    out.say(f"Model saved to {output}", style="bold green")
    card = Path(output) / "README.md"
    out.say(f"Model card: {card}" if card.is_file() else f"Model card: not written (regenerate with `sentforge card {output}`)")
    out.say(f"Metrics: {Path(output) / METRICS_FILE}")
