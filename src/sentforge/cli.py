"""The `sentforge` command: train, train-reranker, check, encode, eval, similarity, info, card, recipe, serve, index, search.

Each subcommand lives in its own file under ``sentforge.commands``; this module only assembles
them. Run as ``sentforge ...`` or ``python -m sentforge.cli ...``.
"""

from typing import Optional

import typer

from . import __version__
from .commands.card import card
from .commands.check import check
from .commands.encode import encode
from .commands.evaluate import evaluate
from .commands.index import index
from .commands.info import info
from .commands.recipe import recipe_app
from .commands.search import search
from .commands.serve import serve
from .commands.similarity import similarity
from .commands.train import train
from .commands.train_reranker import train_reranker

app = typer.Typer(
    name="sentforge",
    help="Train, check, evaluate and document sentence-embedding models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"sentforge {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Train, check, evaluate and document sentence-embedding models."""


app.command("train")(train)
app.command("train-reranker")(train_reranker)
app.command("check")(check)
app.command("encode")(encode)
app.command("eval")(evaluate)
app.command("similarity")(similarity)
app.command("info")(info)
app.command("card")(card)
app.add_typer(recipe_app, name="recipe")
app.command("serve")(serve)
app.command("index")(index)
app.command("search")(search)


def main() -> None:
    """Entry point of the `sentforge` script."""
    app()


if __name__ == "__main__":
    main()
