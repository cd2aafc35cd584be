"""metrics.json: everything worth keeping about a run, JSON-ready."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .choose import Choice
from .plan import TrainPlan
from .prepare import PreparedData

METRICS_FILE = "metrics.json"


def describe_stop(err: BaseException) -> str:
    """What stopped a run, in a few words."""
    if isinstance(err, KeyboardInterrupt):
        return "KeyboardInterrupt (Ctrl-C)"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def metrics_record(
    plan: TrainPlan, data: PreparedData, loss: Choice, evaluator: Choice | None, report: Any,
    baseline: dict[str, float], final: dict[str, float], trainer: Any, timings: dict[str, float],
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
        "resumed_from_step": checkpoint_step(getattr(trainer.recorder, "resumed_from", None)),
        "best_step": getattr(trainer.recorder, "best_step", None),
        "data_doctor": report.to_dict(),
        "timings_s": timings,
    }


def run_status(trainer: Any, stopped_by: BaseException | None) -> dict[str, Any]:
    """The run's status for metrics.json: "completed", or "interrupted" with the step and its cause."""
    if stopped_by is None:
        return {"status": "completed"}
    return {"status": "interrupted", "interrupted_at_step": trainer.state.global_step,
            "interrupted_by": describe_stop(stopped_by)}


def checkpoint_step(checkpoint: str | None) -> int | None:
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
