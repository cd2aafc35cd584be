"""A training plan: the command-line options, or a recipe file with the options on top.

Options the user typed win over the recipe; the recipe wins over the command's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import DEFAULT_BASE
from .prepare import parse_columns
from ..data.dev_split import find_dev_split
from ..errors import SentforgeError
from ..recipes.recipe import EvaluatorSpec, load_recipe

DEFAULT_EPOCHS = 1.0
DEFAULT_BATCH_SIZE = 32
DEFAULT_SEED = 42
RECIPE_SUFFIXES = (".yaml", ".yml")


@dataclass
class TrainPlan:
    """Everything a `sentforge train` run needs, before anything is loaded."""

    base: str
    train: str
    eval: str | None = None
    columns: list[str] | None = None
    eval_columns: list[str] | None = None
    loss: str = "auto"
    loss_params: dict[str, Any] = field(default_factory=dict)
    evaluator: EvaluatorSpec | None = None
    max_seq_length: int | None = None
    normalize: bool | None = None
    args: dict[str, Any] = field(default_factory=dict)
    output: str = ""  # "" = output/<base>-<data>
    recipe: str | None = None
    loss_from_recipe: bool = False
    allow_inverted: bool = False
    baseline: bool = True
    overwrite: bool = False
    resume: bool = False
    mine: bool = True
    """Mine hard negatives for (query, positive) pairs before training (``--no-mine`` turns it off)."""
    eval_beside: bool = False
    """``eval`` is the dev split found beside the training file (see ``data.dev_split``), not one the user named."""
    search: int = 0
    """Short trials on the evaluation split that pick among candidate recipes (``--search N``); 0 = none."""
    given_args: set[str] = field(default_factory=set)
    """Training arguments the user set (options or recipe file): a recipe chosen from the data keeps them."""

    @property
    def batch_size(self) -> int:
        return int(self.args.get("per_device_train_batch_size", DEFAULT_BATCH_SIZE))

    @property
    def epochs(self) -> float:
        return float(self.args.get("num_train_epochs", DEFAULT_EPOCHS))

    @property
    def seed(self) -> int:
        return int(self.args.get("seed", DEFAULT_SEED))

    @property
    def chooses_recipe(self) -> bool:
        """A run typed on the command line gets a recipe chosen from its data; a recipe file is kept as written."""
        return self.recipe is None

    @property
    def inputs(self) -> list[str]:
        """What the run reads (data, recipe, base model): --overwrite must never delete them."""
        return [path for path in (self.train, self.eval, self.recipe, self.base) if path]


def is_recipe_path(path: str | None) -> bool:
    return path is not None and Path(path).suffix.lower() in RECIPE_SUFFIXES


def build_plan(data: str | None, config: str | None, options: dict[str, Any]) -> TrainPlan:
    """The plan for ``sentforge train``; ``options`` holds the typed options (None = not given)."""
    if config is None and is_recipe_path(data):
        data, config = None, data
    if config is not None:
        plan = _from_recipe(config, data)
    else:
        if data is None:
            raise SentforgeError("Give the training data (a csv/tsv/jsonl/parquet file or hub id) or --config recipe.yaml.")
        plan = TrainPlan(base=DEFAULT_BASE, train=data)
    _apply_options(plan, options)
    return plan


def _from_recipe(path: str, data: str | None) -> TrainPlan:
    recipe = load_recipe(path)
    return TrainPlan(
        base=recipe.base_model or DEFAULT_BASE,
        train=data or recipe.data.train,
        eval=recipe.data.eval,
        columns=recipe.data.columns,
        eval_columns=recipe.data.eval_columns or recipe.data.columns,
        loss=recipe.loss.name or "auto",
        loss_params=dict(recipe.loss.params),
        loss_from_recipe=True,
        evaluator=recipe.evaluator,
        max_seq_length=recipe.max_seq_length,
        normalize=recipe.normalize,
        args=dict(recipe.args),
        output=recipe.output or "",
        recipe=path,
    )


_ARG_OPTIONS = {
    "epochs": "num_train_epochs",
    "batch_size": "per_device_train_batch_size",
    "lr": "learning_rate",
    "seed": "seed",
    "max_steps": "max_steps",
    "eval_steps": "eval_steps",
}


def _apply_options(plan: TrainPlan, options: dict[str, Any]) -> None:
    given = {key: value for key, value in options.items() if value is not None}
    if "base" in given:
        plan.base = given["base"]
    if "eval" in given:
        plan.eval, plan.eval_columns = given["eval"], None
    if "columns" in given:
        plan.columns = plan.eval_columns = parse_columns(given["columns"])
    if "loss" in given:
        if given["loss"] != plan.loss:
            plan.loss_params, plan.loss_from_recipe = {}, False
        plan.loss = given["loss"]
    if "max_seq_length" in given:
        plan.max_seq_length = _positive(given["max_seq_length"], "--max-seq-length")
    for option, arg in _ARG_OPTIONS.items():
        if option in given:
            value = given[option]
            if option in ("batch_size", "max_steps", "eval_steps", "epochs", "lr"):
                _positive(value, "--" + option.replace("_", "-"))
            plan.args[arg] = value
    if "eval_steps" in given:
        plan.args["eval_strategy"] = "steps"
    plan.given_args = set(plan.args)
    plan.mine = not options.get("no_mine")
    if options.get("search") is not None:
        if options["search"] < 0:
            raise SentforgeError(f"--search must be 0 (no trials) or more, got {options['search']}.")
        plan.search = int(options["search"])
    plan.args.setdefault("num_train_epochs", DEFAULT_EPOCHS)
    plan.args.setdefault("per_device_train_batch_size", DEFAULT_BATCH_SIZE)
    plan.args.setdefault("seed", DEFAULT_SEED)
    plan.allow_inverted = bool(options.get("allow_inverted"))
    plan.baseline = not options.get("no_baseline")
    plan.overwrite, plan.resume = bool(options.get("overwrite")), bool(options.get("resume"))
    if plan.overwrite and plan.resume:
        raise SentforgeError(
            "--resume continues the run in --output, --overwrite deletes it: pass one of them, not both."
        )
    plan.output = given.get("output") or plan.output or default_output(plan.base, plan.train)
    if plan.eval is None and plan.chooses_recipe and not options.get("hold_out"):
        plan.eval = find_dev_split(plan.train)
        plan.eval_beside = plan.eval is not None


def _positive(value: Any, option: str) -> Any:
    if value <= 0:
        raise SentforgeError(f"{option} must be above 0, got {value}.")
    return value


def default_output(base: str, train: str) -> str:
    """``output/<base model>-<data name>``, e.g. output/all-MiniLM-L6-v2-demo_train."""
    base_name = Path(base.rstrip("/")).name or "model"
    data_name = Path(train).stem if Path(train).suffix else train.rsplit("/", 1)[-1]
    return str(Path("output") / re.sub(r"[^\w.-]+", "-", f"{base_name}-{data_name}"))
