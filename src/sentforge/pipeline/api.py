"""`sentforge train` and `sentforge check` as two Python calls, with the command line's defaults.

    from . import train, check
    record = train("pairs.csv", epochs=1, output="output/my-model")   # metrics.json's record
    checked = check("pairs.csv")                                      # checked.ok, checked.report
"""

from __future__ import annotations

from typing import Any

from .models import load_model
from .token_memo import RunTokenMemo
from .plan import TrainPlan, build_plan
from .preflight import Preflight, preflight
from .reporter import Reporter
from .run import check_output_folder, execute
from .run_folder import claim_run_folder

OPTION_NAMES = (
    "eval", "base", "loss", "epochs", "batch_size", "lr", "max_seq_length", "columns", "output", "seed",
    "eval_steps", "max_steps", "allow_inverted", "no_baseline", "overwrite", "resume", "no_mine", "search",
    "hold_out",
)


def plan_for(data: str | None = None, config: str | None = None, **options: Any) -> TrainPlan:
    """The plan the command line would build from these options (names as `sentforge train`'s, with _)."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise TypeError(f"Unknown option(s) {', '.join(unknown)}; known: {', '.join(OPTION_NAMES)}.")
    if isinstance(options.get("columns"), (list, tuple)):
        options["columns"] = ",".join(options["columns"])
    return build_plan(data, config, {name: options.get(name) for name in OPTION_NAMES})


def train(data: str | None = None, config: str | None = None, reporter: Reporter | None = None,
          **options: Any) -> dict[str, Any]:
    """Check, train, evaluate and save as `sentforge train` does; returns the metrics.json record."""
    plan = plan_for(data, config, **options)
    check_output_folder(plan.output)
    with claim_run_folder(plan.output, overwrite=plan.overwrite, resume=plan.resume, inputs=plan.inputs,
                          reporter=reporter):
        return execute(plan, reporter)


def check(data: str | None = None, config: str | None = None, reporter: Reporter | None = None,
          with_model: bool = True, **options: Any) -> Preflight:
    """The pre-flight of `train` alone (what `sentforge check` runs): data, loss, doctor, evaluator."""
    plan = plan_for(data, config, **options)
    with RunTokenMemo() as memo:
        return preflight(plan, memo.loading(load_model) if with_model else None, reporter)
