"""A training recipe: everything a fine-tuning run needs, in one small YAML file.

Schema (only ``base_model``, ``data.train`` and ``loss.name`` are required)::

    base_model: sentence-transformers/all-MiniLM-L6-v2   # hub id or local model folder
    max_seq_length: 256            # optional: override the model's maximum sequence length
    normalize: true                # optional: true = end with Normalize (added if missing),
                                   #   false = no Normalize (removed if present), omitted = as loaded
    data:
      train: stsb:train            # a file (csv, tsv, jsonl, json, parquet), a hub dataset id, or a
                                   #   shared set name (see sentforge.recipes.sources);
                                   #   "source:split" picks a split (e.g. stsb:train)
      eval: stsb:validation        # optional, same forms
      columns: [sentence1, sentence2, score]   # optional: which columns, in which order
      eval_columns: [...]          # optional: the same for the eval data (default: columns)
    loss:
      name: CosineSimilarityLoss   # a sentforge.losses class, or an import path to your own class
      params: {}                   # constructor arguments as the model card prints them, e.g.
                                   #   scale: 20.0, similarity_fct: cos_sim,
                                   #   loss_fct: torch.nn.modules.loss.MSELoss
    evaluator:                     # optional
      type: EmbeddingSimilarityEvaluator
      name: valid                  # prefix of the metric names (valid_spearman_cosine)
      params: {}                   # optional extra constructor arguments
    args:                          # SentenceTransformerTrainingArguments, only the non-default ones
      num_train_epochs: 4
      per_device_train_batch_size: 16
      eval_strategy: steps
      eval_steps: 1000
    output: output/model-name      # optional: where the trained model is saved
    notes: [...]                   # optional: free text kept with the recipe (e.g. from a model card)

Relative paths (data files, model folders, output) are resolved against the working directory.
``loss`` and ``evaluator`` also accept a bare name (``loss: CosineSimilarityLoss``).
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import SentforgeError
from .checks import check_evaluator_type, check_loss_name, check_training_args, did_you_mean

_TOP_KEYS = ("base_model", "max_seq_length", "normalize", "data", "loss", "evaluator", "args", "output", "notes")
_DATA_KEYS = ("train", "eval", "columns", "eval_columns")
_LOSS_KEYS = ("name", "params")
_EVALUATOR_KEYS = ("type", "name", "params")
_SPLIT_SUFFIX = re.compile(r"^(?P<source>.+):(?P<split>[A-Za-z_][\w.-]*)$")


@dataclass
class DataSpec:
    """Where the training (and evaluation) rows come from, and which columns to use."""

    train: str | None = None
    eval: str | None = None
    columns: list[str] | None = None
    eval_columns: list[str] | None = None


@dataclass
class LossSpec:
    """A loss by class name (or import path) and its constructor arguments."""

    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def is_custom(self) -> bool:
        """True for an import path (``my_losses.MyLoss``): a class the user must supply."""
        return bool(self.name) and "." in self.name


@dataclass
class EvaluatorSpec:
    """An evaluator by class name, its metric-name prefix and extra constructor arguments."""

    type: str
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Recipe:
    """One fine-tuning run; see the module docstring for the YAML schema."""

    base_model: str | None
    data: DataSpec
    loss: LossSpec
    max_seq_length: int | None = None
    normalize: bool | None = None
    evaluator: EvaluatorSpec | None = None
    args: dict[str, Any] = field(default_factory=dict)
    output: str | None = None
    notes: list[str] = field(default_factory=list)

    def missing(self) -> list[str]:
        """The required keys that still have no value (a recipe made from a model card may lack some)."""
        required = {"base_model": self.base_model, "data.train": self.data.train, "loss.name": self.loss.name}
        return [key for key, value in required.items() if not value]

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the schema's key order; optional keys without a value are left out."""
        data = {key: value for key, value in vars(self.data).items() if value is not None or key == "train"}
        result: dict[str, Any] = {"base_model": self.base_model}
        if self.max_seq_length is not None:
            result["max_seq_length"] = self.max_seq_length
        if self.normalize is not None:
            result["normalize"] = self.normalize
        result["data"] = data
        result["loss"] = {"name": self.loss.name, "params": dict(self.loss.params)}
        if self.evaluator is not None:
            result["evaluator"] = {"type": self.evaluator.type, "name": self.evaluator.name}
            if self.evaluator.params:
                result["evaluator"]["params"] = dict(self.evaluator.params)
        if self.args:
            result["args"] = dict(self.args)
        if self.output is not None:
            result["output"] = self.output
        if self.notes:
            result["notes"] = list(self.notes)
        return copy.deepcopy(result)

    @classmethod
    def from_dict(cls, raw: Any, *, where: str = "recipe", complete: bool = True) -> "Recipe":
        """Build and check a recipe from parsed YAML; ``complete=False`` lets required values be null."""
        body = _mapping(raw, where, "the recipe")
        _no_unknown_keys(body, _TOP_KEYS, where, "")
        recipe = cls(
            base_model=_text(body.get("base_model"), where, "base_model"),
            max_seq_length=_positive_int(body.get("max_seq_length"), where, "max_seq_length"),
            normalize=_flag(body.get("normalize"), where, "normalize"),
            data=_data(body.get("data"), where),
            loss=_loss(body.get("loss"), where),
            evaluator=_evaluator(body.get("evaluator"), where),
            args=check_training_args(_mapping(body.get("args") or {}, where, "`args`"), where),
            output=_text(body.get("output"), where, "output"),
            notes=_notes(body.get("notes"), where),
        )
        if complete and recipe.missing():
            raise SentforgeError(f"{where}: {_missing_message(recipe.missing())}")
        return recipe


def split_source(source: str) -> tuple[str, str | None]:
    """Split ``"stsb:train"`` into ``("stsb", "train")``; an existing path or drive letter stays whole."""
    match = _SPLIT_SUFFIX.match(source)
    if not match or os.path.exists(source) or re.match(r"^[A-Za-z]:[\\/]", source):
        return source, None
    return match["source"], match["split"]


def recipe_to_yaml(recipe: Recipe, header: str | None = None) -> str:
    """The recipe as YAML text; ``header`` lines become a leading comment."""
    text = yaml.dump(recipe.to_dict(), Dumper=_RecipeDumper, sort_keys=False, allow_unicode=True, width=100)
    if header:
        text = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines()) + text
    return text


def save_recipe(recipe: Recipe, path: str | os.PathLike, header: str | None = None) -> Path:
    """Write the recipe as YAML to ``path`` (folders created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(recipe_to_yaml(recipe, header), encoding="utf-8")
    return target


def load_recipe(path: str | os.PathLike, *, complete: bool = True) -> Recipe:
    """Read and check a YAML recipe; every problem raises SentforgeError naming the key and the fix."""
    source = Path(path)
    if not source.is_file():
        raise SentforgeError(f"Recipe file '{source}' not found. Check the path (working directory: {Path.cwd()}).")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise SentforgeError(f"'{source}' is not valid YAML: {err}. Fix the indentation or quoting there.") from None
    return Recipe.from_dict(raw, where=str(source), complete=complete)


class _RecipeDumper(yaml.SafeDumper):
    """Block style for mappings, ``[a, b]`` for short lists of plain values (columns, dims)."""


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    flow = all(isinstance(item, (int, float, bool)) or (isinstance(item, str) and len(item) < 40) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow and len(items) < 12)


_RecipeDumper.add_representer(list, _represent_list)


def _missing_message(keys: list[str]) -> str:
    fixes = {
        "base_model": "set `base_model:` to a model id (e.g. sentence-transformers/all-MiniLM-L6-v2) or folder",
        "data.train": "set `data: {train: ...}` to a data file, a hub dataset id or a shared set name",
        "loss.name": "set `loss: {name: ...}` to a sentforge.losses class (e.g. CosineSimilarityLoss)",
    }
    return "missing required " + "; ".join(f"`{key}`: {fixes[key]}" for key in keys) + "."


def _no_unknown_keys(body: dict, allowed: tuple[str, ...], where: str, prefix: str) -> None:
    for key in body:
        if key not in allowed:
            raise SentforgeError(
                f"{where}: unknown key `{prefix}{key}`.{did_you_mean(str(key), allowed)} "
                f"Allowed keys{' under `' + prefix[:-1] + '`' if prefix else ''}: {', '.join(allowed)}."
            )


def _mapping(value: Any, where: str, what: str) -> dict:
    if not isinstance(value, dict):
        raise SentforgeError(
            f"{where}: {what} must be a mapping of `key: value` lines, got {type(value).__name__}. "
            "Check the indentation."
        )
    return value


def _text(value: Any, where: str, key: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SentforgeError(f"{where}: `{key}` must be non-empty text, got {value!r}. Fix the value of `{key}`.")
    return value


def _positive_int(value: Any, where: str, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SentforgeError(f"{where}: `{key}` must be a whole number above 0 (e.g. 256), got {value!r}.")
    return value


def _flag(value: Any, where: str, key: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise SentforgeError(f"{where}: `{key}` must be true or false, got {value!r}. Write `{key}: true`.")
    return value


def _params(value: Any, where: str, key: str) -> dict[str, Any]:
    params = _mapping(value if value is not None else {}, where, f"`{key}`")
    for name in params:
        if not isinstance(name, str):
            raise SentforgeError(f"{where}: `{key}` key {name!r} is not text. Use `argument_name: value` lines.")
    return dict(params)


def _columns(value: Any, where: str, key: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and c for c in value):
        raise SentforgeError(f"{where}: `{key}` must be a list of column names, e.g. [sentence1, sentence2, score].")
    if len(set(value)) != len(value):
        raise SentforgeError(f"{where}: `{key}` names a column twice ({', '.join(value)}). List each column once.")
    return list(value)


def _data(value: Any, where: str) -> DataSpec:
    body = _mapping(value if value is not None else {}, where, "`data`")
    _no_unknown_keys(body, _DATA_KEYS, where, "data.")
    return DataSpec(
        train=_text(body.get("train"), where, "data.train"),
        eval=_text(body.get("eval"), where, "data.eval"),
        columns=_columns(body.get("columns"), where, "data.columns"),
        eval_columns=_columns(body.get("eval_columns"), where, "data.eval_columns"),
    )


def _loss(value: Any, where: str) -> LossSpec:
    body = {"name": value} if isinstance(value, str) else _mapping(value if value is not None else {}, where, "`loss`")
    _no_unknown_keys(body, _LOSS_KEYS, where, "loss.")
    name = _text(body.get("name"), where, "loss.name")
    if name is not None:
        check_loss_name(name, where)
    return LossSpec(name=name, params=_params(body.get("params"), where, "loss.params"))


def _evaluator(value: Any, where: str) -> EvaluatorSpec | None:
    if value is None:
        return None
    body = {"type": value} if isinstance(value, str) else _mapping(value, where, "`evaluator`")
    _no_unknown_keys(body, _EVALUATOR_KEYS, where, "evaluator.")
    kind = _text(body.get("type"), where, "evaluator.type")
    if kind is None:
        raise SentforgeError(
            f"{where}: `evaluator.type` is missing. Set it, e.g. `type: EmbeddingSimilarityEvaluator`."
        )
    check_evaluator_type(kind, where)
    name = body.get("name") or ""
    if not isinstance(name, str):
        raise SentforgeError(f"{where}: `evaluator.name` must be text (e.g. valid), got {name!r}.")
    return EvaluatorSpec(type=kind, name=name, params=_params(body.get("params"), where, "evaluator.params"))


def _notes(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise SentforgeError(f"{where}: `notes` must be text or a list of texts.")
    return list(items)
