"""`sentforge card`: rewrite a trained model's card (README.md) from the run record saved beside it."""

from pathlib import Path

import typer

from . import console as out
from .console import user_errors
from ..errors import SentforgeError


@user_errors
def card(model_dir: str = typer.Argument(..., help="Folder of a model trained with sentforge.")) -> None:
    """Regenerate README.md, the training curve and training_run.json of a trained model."""
    from ..card import regenerate_model_card

    folder = Path(model_dir)
    if not folder.is_dir():
        raise SentforgeError(f"Model folder '{model_dir}' not found. Pass the folder the model was saved to.")
    problem = regenerate_model_card(folder)
    if problem:
        raise SentforgeError(problem)
    out.say(f"Model card written: {folder / 'README.md'}", style="green")
