"""``--search N``: N short trials on the evaluation split pick among candidate recipes.

Each trial trains a fresh copy of the base model for a third of the full run's steps with one
candidate (the chosen recipe, another loss for the task, a doubled or a smaller learning rate) and
scores it with the run's evaluator on the held-out split that preparation made (never a test set).
The best candidate then trains fully. Options the user gave are kept in every candidate.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from typing import Any

from ..errors import SentforgeError
from .choose import choose_recipe_loss
from .models import shape_model
from .plan import TrainPlan
from .recipe_choice import RecipeChoice
from .reporter import Reporter
from .trainer_setup import total_steps

TRIAL_SHARE = 1 / 3
"""Each trial runs this share of the full run's steps."""
OTHER_LOSSES = {
    "pairs": ("GISTEmbedLoss",),
    "triplets": ("GISTEmbedLoss",),
    "scored-pairs": ("AnglELoss", "CosineSimilarityLoss", "CoSENTLoss"),
    "binary-pairs": ("ContrastiveLoss", "CoSENTLoss", "OnlineContrastiveLoss"),
}


def candidate_recipes(recipe: RecipeChoice, task: str, count: int, user_loss: bool = False) -> list[RecipeChoice]:
    """The chosen recipe first, then other losses for the task, then the learning rate doubled and at 0.4x."""
    candidates = [recipe]
    if not user_loss:
        for name in OTHER_LOSSES.get(task, ()):
            if name != recipe.loss:
                params = {"scale": recipe.loss_params["scale"]} if name in ("CoSENTLoss", "AnglELoss") and \
                    "scale" in recipe.loss_params else {}
                candidates.append(_variant(recipe, f"loss {name}", loss=name, loss_params=params))
    if "learning_rate" not in recipe.kept:
        lr = recipe.args["learning_rate"]
        candidates.append(_variant(recipe, f"lr {lr * 2:g}", learning_rate=lr * 2))
        candidates.append(_variant(recipe, f"lr {lr * 0.4:g}", learning_rate=lr * 0.4))
    return candidates[:count]


def _variant(recipe: RecipeChoice, label: str, **changes: Any) -> RecipeChoice:
    variant = copy.deepcopy(recipe)
    variant.profile = recipe.profile
    for key, value in changes.items():
        if key in variant.args:
            variant.args[key] = value
        else:
            setattr(variant, key, value)
    variant.reasons = [*recipe.reasons, f"Trial variant: {label}."]
    variant.loss_reason = f"{label} (picked by --search on the held-out split)."
    return variant


def describe(candidate: RecipeChoice, chosen: RecipeChoice) -> str:
    """What sets a candidate apart from the chosen recipe."""
    if candidate is chosen:
        return "the recipe chosen from the data"
    return candidate.reasons[-1].removeprefix("Trial variant: ").rstrip(".")


def search_recipe(plan: TrainPlan, checked: Any, load_model: Callable[[str], Any], reporter: Reporter,
                  seconds: dict[str, float]) -> dict[str, Any]:
    """Run the trials, apply the winner to ``plan`` and ``checked`` (its loss rebuilt on the real model),
    and return metrics.json's ``recipe_search`` entry."""
    if checked.evaluator is None:
        raise SentforgeError("--search needs evaluation data to compare the trials on: give --eval, or data with "
                             "enough rows to hold some out.")
    began = time.perf_counter()
    recipe = checked.recipe
    candidates = candidate_recipes(recipe, checked.data.roles.task, plan.search, user_loss=plan.loss.lower() != "auto")
    full_steps = total_steps(len(checked.data.train), plan.batch_size, plan.args)
    trial_steps = max(1, round(full_steps * TRIAL_SHARE))
    primary = checked.evaluator.value.primary_metric
    reporter.say(f"Recipe search: {len(candidates)} trial(s) of {trial_steps} steps each, scored by {primary} on the "
                 f"held-out split.")
    trials = []
    for candidate in candidates:
        score = _trial(plan, checked, candidate, load_model, trial_steps)
        trials.append({"candidate": describe(candidate, recipe), "loss": candidate.loss,
                       "learning_rate": candidate.args["learning_rate"], primary: score})
        reporter.say(f"  trial {describe(candidate, recipe)}: {primary} = {score:.4f}")
    best_index = max(range(len(trials)), key=lambda i: _comparable(trials[i][primary]))
    best = candidates[best_index]
    _apply(plan, checked, best)
    seconds["recipe_search"] = round(time.perf_counter() - began, 3)
    reporter.say(f"Recipe search picked {describe(best, recipe)} ({primary} {trials[best_index][primary]:.4f}).")
    return {"trials": trials, "trial_steps": trial_steps, "picked": describe(best, recipe), "metric": primary,
            "split": "held-out (never a test set)"}


def _comparable(score: float) -> float:
    return score if score == score else float("-inf")  # a NaN trial never wins


def _trial(plan: TrainPlan, checked: Any, candidate: RecipeChoice, load_model: Callable[[str], Any],
           steps: int) -> float:
    """Train a fresh base model ``steps`` steps with ``candidate``; its primary held-out score."""
    from ..training.args import SentenceTransformerTrainingArguments
    from ..training.trainer import SentenceTransformerTrainer

    model = load_model(plan.base)
    shape_model(model, plan.max_seq_length, plan.normalize)
    loss = choose_recipe_loss(model, checked.data, candidate).value
    args = {**candidate.args, **{k: v for k, v in plan.args.items() if k in plan.given_args}}
    with tempfile.TemporaryDirectory(prefix="sentforge-trial-") as folder:
        values = dict(
            output_dir=folder, max_steps=steps, per_device_train_batch_size=int(args["per_device_train_batch_size"]),
            learning_rate=float(args["learning_rate"]), warmup_ratio=float(args.get("warmup_ratio", 0.1)),
            seed=plan.seed, eval_strategy="no", save_strategy="no", report_to=[], disable_tqdm=True,
        )
        if getattr(loss, "uses_in_batch_negatives", False):
            values["batch_sampler"] = "no_duplicates"
        trainer = SentenceTransformerTrainer(model=model, args=SentenceTransformerTrainingArguments(**values),
                                             train_dataset=checked.data.train, loss=loss)
        trainer.train()
    metrics = checked.evaluator.value(model)
    return float(metrics.get(checked.evaluator.value.primary_metric, float("nan")))


def _apply(plan: TrainPlan, checked: Any, best: RecipeChoice) -> None:
    """The winner's arguments where the user set none, and its loss built on the model that will train."""
    plan.args.update({key: value for key, value in best.args.items() if key not in plan.given_args})
    if best is not checked.recipe:
        checked.recipe = best
        checked.loss = choose_recipe_loss(checked.model, checked.data, best)
