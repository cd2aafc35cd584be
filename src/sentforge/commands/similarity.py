"""`sentforge similarity`: the model's similarity between two texts, or the matrix for several."""

from typing import List

import typer
from rich.table import Table
from rich.text import Text

from . import console as out
from .console import user_errors
from ..pipeline.models import load_model
from ..errors import SentforgeError

_SHOWN_CHARS = 40


@user_errors
def similarity(
    model: str = typer.Argument(..., help="Model folder or id."),
    texts: List[str] = typer.Argument(..., help="Two or more texts, each in quotes."),
) -> None:
    """Print the similarity of two texts, or the similarity matrix of several."""
    if len(texts) < 2:
        raise SentforgeError('Give at least two texts to compare, e.g. sentforge similarity MODEL "a cat" "a dog".')
    out.quiet_libraries()
    encoder = load_model(model)
    embeddings = encoder.encode(list(texts), convert_to_tensor=True, show_progress_bar=False)
    scores = encoder.similarity(embeddings, embeddings).cpu().numpy()
    function = encoder.similarity_fn_name
    if len(texts) == 2:
        out.say(f"{function} similarity: {scores[0, 1]:.4f}")
        return
    table = Table(title=f"{function} similarity", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("text")
    for index in range(len(texts)):
        table.add_column(str(index + 1), justify="right")
    for index, text in enumerate(texts):
        shown = text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
        table.add_row(str(index + 1), Text(shown), *(f"{value:.4f}" for value in scores[index]))
    out.console.print(table)
