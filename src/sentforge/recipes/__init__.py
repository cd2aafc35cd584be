"""Training recipes: a YAML file per fine-tuning run, and recovering one from a model card."""

from .from_card import recipe_from_card, recipe_yaml_from_card, write_recipe_from_card
from .recipe import (
    DataSpec,
    EvaluatorSpec,
    LossSpec,
    Recipe,
    load_recipe,
    recipe_to_yaml,
    save_recipe,
    split_source,
)

__all__ = [
    "DataSpec",
    "EvaluatorSpec",
    "LossSpec",
    "Recipe",
    "load_recipe",
    "recipe_from_card",
    "recipe_to_yaml",
    "recipe_yaml_from_card",
    "save_recipe",
    "split_source",
    "write_recipe_from_card",
]
