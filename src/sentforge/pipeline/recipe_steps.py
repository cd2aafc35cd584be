"""The steps a recipe chosen from the data adds to a run: hard-negative mining before training, quality
at Matryoshka dimensions before and after, and what the log, metrics.json and the card say about them."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .matryoshka_report import evaluate_truncated, matryoshka_dims, truncation_lines, truncation_record
from .mining import MiningResult, mine_negatives
from .plan import TrainPlan
from .recipe_choice import RecipeChoice
from .reporter import Reporter


@dataclass
class RecipeSteps:
    """What the recipe's own steps did in one run."""

    recipe: RecipeChoice | None
    mining: MiningResult | None = None
    dims: list[int] = field(default_factory=list)
    truncated_baseline: dict[int, dict[str, float]] = field(default_factory=dict)
    truncated_final: dict[int, dict[str, float]] = field(default_factory=dict)
    truncation: list[str] = field(default_factory=list)
    search: dict[str, Any] | None = None

    def card_notes(self) -> str:
        """Markdown lines for the card, under the data doctor's findings."""
        lines = []
        if self.recipe is not None:
            lines.append(f"**Recipe chosen from the data:** {self.recipe.summary()}. {self.recipe.reason}")
        if self.mining is not None:
            lines.append(f"**{self.mining.summary()}**")
        if self.truncation:
            lines.append("**Quality at Matryoshka dimensions (truncate_dim):** " + "; ".join(self.truncation) + ".")
        return "\n\n".join(lines)

    def record(self) -> dict[str, Any]:
        """metrics.json's entries for these steps."""
        entries: dict[str, Any] = {}
        if self.recipe is not None:
            entries["recipe_choice"] = self.recipe.to_dict()
        if self.search is not None:
            entries["recipe_search"] = self.search
        if self.mining is not None:
            entries["hard_negatives"] = self.mining.to_dict()
        if self.truncated_final:
            entries["matryoshka"] = {"dims": self.dims, **truncation_record(self.truncated_final, self.truncated_baseline)}
        return entries


def mine_if_chosen(plan: TrainPlan, checked: Any, reporter: Reporter, seconds: dict[str, float]) -> MiningResult | None:
    """Mine hard negatives into ``checked.data.train`` when the recipe says so and the loss reads negatives."""
    recipe, data, loss = checked.recipe, checked.data, checked.loss
    if recipe is None or not recipe.mine or data.roles.task != "pairs" or loss is None:
        return None
    most = getattr(loss.value, "max_text_columns", None)
    if most is not None and most < 2 + recipe.negatives_per_row:
        reporter.say(f"No hard-negative mining: {loss.name} reads only pairs.")
        return None
    began = time.perf_counter()
    result = mine_negatives(checked.model, data.train, negatives_per_row=recipe.negatives_per_row, seed=plan.seed)
    seconds["mine_hard_negatives"] = round(time.perf_counter() - began, 3)
    data.train = result.dataset
    reporter.say(result.summary())
    return result


def truncated_baseline(steps: RecipeSteps, evaluator: Any, model: Any, seconds: dict[str, float]) -> None:
    """The base model's quality at the smaller Matryoshka dimensions (before training)."""
    if steps.recipe is None or not steps.recipe.matryoshka or evaluator is None:
        return
    began = time.perf_counter()
    steps.dims = matryoshka_dims(model)
    steps.truncated_baseline = evaluate_truncated(evaluator, model, steps.dims)
    seconds["matryoshka_baseline_eval"] = round(time.perf_counter() - began, 3)


def truncated_final(steps: RecipeSteps, evaluator: Any, model: Any, final: dict[str, float],
                    baseline: dict[str, float], reporter: Reporter, seconds: dict[str, float]) -> None:
    """The fine-tuned model's quality at the smaller Matryoshka dimensions, said in the log."""
    if steps.recipe is None or not steps.recipe.matryoshka or evaluator is None or not final:
        return
    began = time.perf_counter()
    steps.dims = steps.dims or matryoshka_dims(model)
    steps.truncated_final = evaluate_truncated(evaluator, model, steps.dims)
    seconds["matryoshka_eval"] = round(time.perf_counter() - began, 3)
    full = steps.dims[0] if steps.dims else 0
    steps.truncation = truncation_lines(evaluator.primary_metric, full, final, baseline, steps.truncated_final,
                                        steps.truncated_baseline)
    for line in steps.truncation:
        reporter.say(f"Matryoshka: {line}")
