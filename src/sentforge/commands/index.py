"""`sentforge index`: embed a corpus file and write a searchable index folder (or append to one)."""

from pathlib import Path
from typing import Optional

import typer

from . import console as out
from .console import user_errors
from ..errors import SentforgeError

PRECISIONS = ("float32", "int8", "bfloat16")


@user_errors
def index(
    model: str = typer.Argument(..., help="Model folder or id."),
    corpus: str = typer.Argument(..., help="A csv, tsv, jsonl, json or parquet file with an id and a text column."),
    output: str = typer.Option(..., "--out", "-o", help="Index folder to write."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="Id column (default: id, else _id)."),
    text_column: Optional[str] = typer.Option(None, "--text-column", help="Text column (default: text)."),
    text_columns: Optional[str] = typer.Option(
        None, "--text-columns", help="Several text columns joined by a space, e.g. title,text (as BEIR does)."),
    add: bool = typer.Option(False, "--add", help="Append the corpus's rows to the index in --out (new ids only)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing index in --out."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Texts per batch."),
    precision: str = typer.Option("float32", "--precision",
                                  help="Model weights while encoding: float32, int8 or bfloat16."),
) -> None:
    """Embed the texts of CORPUS with MODEL and save a searchable index in --out."""
    from ..index import VectorIndex, read_corpus
    from ..index.manifest import MANIFEST_FILE

    if precision not in PRECISIONS:
        raise SentforgeError(f"Unknown --precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")
    if text_column and text_columns:
        raise SentforgeError("Give --text-column or --text-columns, not both.")
    if add and overwrite:
        raise SentforgeError("Give --add (append to the index) or --overwrite (rebuild it), not both.")
    columns = [c.strip() for c in (text_columns or text_column or "").split(",") if c.strip()] or None
    exists = (Path(output) / MANIFEST_FILE).is_file()
    if exists and not (add or overwrite):
        raise SentforgeError(f"'{output}' already holds an index. Pass --add to append rows, "
                             "or --overwrite to rebuild it.")
    if add and not exists:
        raise SentforgeError(f"--add needs an existing index in '{output}'. Leave --add out to build one.")
    out.quiet_libraries()
    rows = read_corpus(corpus, id_column=id_column, text_columns=columns)
    out.say(rows.columns_said())
    with _progress(len(rows.texts)) as advance:
        if add:
            built = VectorIndex.load(output, model=model)
            before = len(built)
            built.add(rows.ids, rows.texts, batch_size=batch_size, progress=advance)
            what = f"Added {len(built) - before} rows ({len(built)} in all)"
        else:
            built = VectorIndex.build(model, rows.ids, rows.texts, batch_size=batch_size, precision=precision,
                                      progress=advance, id_column=rows.id_column, text_columns=rows.text_columns)
            what = f"Indexed {len(built)} rows"
    target = built.save(output)
    search = "exact search" if built.exact else "approximate (HNSW) search"
    out.say(f"{what}: {built.dimension} dimensions, {built.manifest.precision}, {search}.")
    out.say(f"Saved to {target}")


class _progress:
    """A rich progress bar on a terminal; nothing elsewhere (pipes, logs)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar = None

    def __enter__(self):
        if not out.console.is_terminal:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("Embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                            console=out.console, transient=True)
        self.bar.start()
        task = self.bar.add_task("embed", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *_) -> None:
        if self.bar is not None:
            self.bar.stop()
