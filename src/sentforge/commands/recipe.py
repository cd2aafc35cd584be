"""`sentforge recipe from-card`: recover the training recipe a model card describes."""

from typing import Optional

import typer

from . import console as out
from .console import user_errors

recipe_app = typer.Typer(
    help="Training recipes (YAML files that `sentforge train --config` runs).", no_args_is_help=True,
    rich_markup_mode=None,
)


@recipe_app.command("from-card")
@user_errors
def from_card(
    card: str = typer.Argument(..., help="A model card (README.md) or the folder holding one."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the recipe here instead of printing it."),
) -> None:
    """Print the recipe of a model card as YAML (its notes say what needs a human), or write it with -o."""
    from ..recipes import recipe_yaml_from_card, write_recipe_from_card

    if output is None:
        print(recipe_yaml_from_card(card), end="")
        return
    recipe = write_recipe_from_card(card, output)
    out.say(f"Recipe written to {output}", style="green")
    missing = recipe.missing()
    if missing:
        out.say(f"Fill in before training: {', '.join(missing)}.", style="yellow")
    out.say(f"Notes ({len(recipe.notes)}):")
    for note in recipe.notes:
        out.say(f"- {note}")
