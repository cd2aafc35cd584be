"""Everything before the first training step, shared by `sentforge train` and `sentforge check`.

Both commands run exactly these steps with the same defaults, so `check` says "ready to train"
only for data `train` accepts: load and prepare the data, shape the model, pick the loss, map
scores onto its range, run the data doctor (with the loss's own input checks) and pick the
evaluator.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .choose import Choice, choose_evaluator, choose_loss, choose_recipe_loss, wants_scores
from .data_profile import profile_data
from .doctor import count_tokens_with, run_doctor
from .models import shape_model
from .plan import TrainPlan
from .prepare import PreparedData, prepare, rescale_scores
from .recipe_choice import RecipeChoice, choose_recipe
from ..data.report import DoctorReport, Finding
from ..errors import SentforgeError
from .reporter import NullReporter, Reporter


@dataclass
class Preflight:
    """What the checks found and chose; ``model`` is None when checked without a base model."""

    model: Any
    data: PreparedData
    loss: Choice | None
    report: DoctorReport
    evaluator: Choice | None
    seconds: dict[str, float] = field(default_factory=dict)
    recipe: RecipeChoice | None = None
    """The recipe chosen from the data (None for a recipe file, which is kept as written)."""

    @property
    def ok(self) -> bool:
        return self.report.ok


def preflight(
    plan: TrainPlan, load_model: Callable[[str], Any] | None, reporter: Reporter | None = None
) -> Preflight:
    """Run the checks of ``plan``; ``load_model`` None checks the data without a base model."""
    say = (reporter or NullReporter()).say
    seconds: dict[str, float] = {}
    began = time.perf_counter()
    data = prepare(plan.train, plan.eval, columns=plan.columns, eval_columns=plan.eval_columns, seed=plan.seed,
                   eval_beside=plan.eval_beside)
    seconds["load_data"] = _since(began)
    began = time.perf_counter()
    model = None
    if load_model is not None:
        say(f"Base model: {plan.base}" + (f"   Recipe: {plan.recipe}" if plan.recipe else ""))
        model = load_model(plan.base)
        for note in shape_model(model, plan.max_seq_length, plan.normalize):
            say(note)
    seconds["load_model"] = _since(began)
    recipe = _choose_recipe(plan, data, model)
    loss = _pick_loss(model, data, plan, recipe)
    if loss is not None and wants_scores(loss.value):
        rescale_scores(data, any_scale=plan.loss.lower() == "auto")
    say(f"Training data: {plan.train} ({len(data.train)} rows; columns {', '.join(data.train.column_names)})")
    for note in data.notes:
        say(note)
    if loss is not None:
        say(f"Task: {data.roles.task}. Loss: {loss.label}. Why: {loss.reason}")
    if recipe is not None:
        say(f"Recipe chosen from the data: {recipe.summary()}. Why: {recipe.reason}")
    if model is None:
        say("No base model: token lengths and label direction were not checked.", style="yellow")
    began = time.perf_counter()
    report = run_doctor(model, data, loss.value if loss else None, batch_size=plan.batch_size, epochs=plan.epochs,
                        allow_inverted=plan.allow_inverted, seed=plan.seed)
    report = _with_loss_fit(report, data, loss, plan.batch_size)
    seconds["data_doctor"] = _since(began)
    evaluator = None
    if model is not None and report.ok:
        evaluator = choose_evaluator(model, data, plan.evaluator, plan.batch_size)
    return Preflight(model, data, loss, report, evaluator, seconds, recipe)


def _since(began: float) -> float:
    return round(time.perf_counter() - began, 3)


def _choose_recipe(plan: TrainPlan, data: PreparedData, model: Any) -> RecipeChoice | None:
    """Choose the recipe from the data and put its training arguments in the plan where the user set none."""
    if not plan.chooses_recipe:
        return None
    profile = profile_data(data, count_tokens_with(model) if model is not None else None, plan.seed)
    user_args = {key: value for key, value in plan.args.items() if key in plan.given_args}  # in the order given
    recipe = choose_recipe(profile, user_args, mine=plan.mine, user_loss=plan.loss)
    plan.args.update({key: value for key, value in recipe.args.items() if key not in plan.given_args})
    return recipe


def _pick_loss(model: Any, data: PreparedData, plan: TrainPlan, recipe: RecipeChoice | None = None) -> Choice | None:
    """The loss training will use. Without a model, built on None when the loss allows it (the
    doctor reads only what the loss declares), else None and the doctor goes by the task alone."""
    source = "the recipe" if plan.recipe and plan.loss_from_recipe else "--loss"
    auto = recipe is not None and plan.loss.lower() == "auto"
    if model is not None:
        if auto:
            return choose_recipe_loss(model, data, recipe)
        return choose_loss(model, data, plan.loss, plan.loss_params, source)
    try:
        if auto:
            return choose_recipe_loss(None, data, recipe)
        return choose_loss(None, data, plan.loss, plan.loss_params, source)
    except SentforgeError:
        raise
    except Exception:  # noqa: BLE001 - a loss that needs a real model
        return None


def _with_loss_fit(report: DoctorReport, data: PreparedData, loss: Choice | None, batch_size: int) -> DoctorReport:
    """Add the trainer's own check of the data against the loss (columns, label kind and range),
    so that data the trainer would refuse is an error here too, said once."""
    if loss is None or not report.ok:
        return report
    from ..losses.validation import validate_loss_inputs

    labels = data.train["label"] if "label" in data.train.column_names else None
    try:
        validate_loss_inputs(loss.value, data.train.column_names, labels, batch_size, num_rows=len(data.train))
    except SentforgeError as err:
        finding = Finding(
            "loss-input", "error", str(err), None,
            f"Choose a loss made for this data (--loss auto picks one from the columns), or reshape the data for {loss.name}.",
            "train",
        )
        return DoctorReport([*report.findings, finding])
    return report
