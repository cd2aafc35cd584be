"""`sentforge encode`: embed the texts of a file and save them as a .npy matrix (one row per text)."""

from pathlib import Path
from typing import Optional

import typer

from sentforge.commands import console as out
from sentforge.commands.console import user_errors
from sentforge.pipeline.models import load_model
from sentforge.errors import SentforgeError

DEFAULT_TEXT_COLUMN = "text"


@user_errors
def encode(
    model: str = typer.Argument(..., help="Model folder or id."),
    file: str = typer.Argument(..., help="A .txt file (one text per line) or a csv/tsv/jsonl/json/parquet file."),
    column: Optional[str] = typer.Option(None, "--column", help="Text column of a table file (default: text)."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Where to save the .npy (default: <file>.npy)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Texts per batch."),
    normalize: bool = typer.Option(False, "--normalize", help="Scale every embedding to length 1."),
    precision: str = typer.Option("float32", "--precision", help="float32, int8, uint8, binary or ubinary."),
) -> None:
    """Encode texts to embeddings and save them as a NumPy .npy file."""
    import numpy as np

    from sentforge.quantization import PRECISIONS

    if precision not in PRECISIONS:
        raise SentforgeError(f"Unknown --precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")
    out.quiet_libraries()
    texts, skipped = read_texts(Path(file), column)
    encoder = load_model(model)
    embeddings = np.asarray(
        encoder.encode(texts, batch_size=batch_size, normalize_embeddings=normalize, precision=precision,
                       show_progress_bar=False, convert_to_numpy=True)
    )
    target = Path(output) if output else Path(Path(file).stem + ".npy")
    if target.suffix != ".npy":
        target = target.with_name(target.name + ".npy")
    target.parent.mkdir(parents=True, exist_ok=True)
    np.save(target, embeddings)
    if skipped:
        out.say(f"Skipped {skipped} blank line(s); rows follow the non-blank lines in order.")
    out.say(f"Encoded {len(texts)} texts: shape {embeddings.shape}, dtype {embeddings.dtype}"
            f"{', normalized' if normalize else ''}.")
    out.say(f"Saved to {target}")


def read_texts(path: Path, column: Optional[str]) -> tuple[list[str], int]:
    """The texts to embed and the number of blank lines skipped (txt files only)."""
    import pyarrow as pa

    if path.suffix.lower() == ".txt":
        return _read_lines(path)
    from sentforge.data import load_data

    data = load_data(str(path))
    name = column or _default_column(data)
    if name not in data.column_names:
        raise SentforgeError(f"No column '{name}' in {path.name}; its columns are {', '.join(data.column_names)}. "
                             "Pick one with --column.")
    kind = data.data.schema.field(name).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise SentforgeError(f"Column '{name}' of {path.name} holds {kind}, not text. Pick a text column with --column.")
    values = data[name]
    missing = [i + 1 for i, value in enumerate(values) if value is None]
    if missing:
        raise SentforgeError(f"Column '{name}' has {len(missing)} empty cell(s) (first in row {missing[0]}). "
                             "Fill them in or drop those rows.")
    return list(values), 0


def _default_column(data) -> str:
    import pyarrow as pa

    if DEFAULT_TEXT_COLUMN in data.column_names:
        return DEFAULT_TEXT_COLUMN
    texts = [name for name, kind in zip(data.column_names, data.data.schema.types)
             if pa.types.is_string(kind) or pa.types.is_large_string(kind)]
    if len(texts) == 1:
        return texts[0]
    raise SentforgeError(f"Which column holds the texts? Found {', '.join(data.column_names)}; pass --column NAME.")


def _read_lines(path: Path) -> tuple[list[str], int]:
    from sentforge.data.files import check_utf8

    if not path.is_file():
        raise SentforgeError(f"File not found: '{path}' (working directory: {Path.cwd()}). Check the path.")
    check_utf8(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise SentforgeError(f"'{path.name}' has no text: write one text per line.")
    return texts, len(lines) - len(texts)
