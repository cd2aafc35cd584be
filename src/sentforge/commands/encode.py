"""`sentforge encode`: embed the texts of a file and save them as a .npy matrix (one row per text).

With ``--ray`` a corpus (a file or a folder of shards) is embedded on a Ray cluster instead, and
saved as parquet shards of ``id`` + ``embedding`` (see ``sentforge.bulk``).
"""

from pathlib import Path
from typing import Optional

import typer

from . import console as out
from .console import user_errors
from ..pipeline.models import load_model
from ..errors import SentforgeError

DEFAULT_TEXT_COLUMN = "text"


@user_errors
def encode(
    model: str = typer.Argument(..., help="Model folder or id."),
    file: str = typer.Argument(..., help="A .txt file (one text per line) or a csv/tsv/jsonl/json/parquet file; "
                                         "with --ray, also a folder of such shards or a URI such as s3://..."),
    column: Optional[str] = typer.Option(None, "--column", "--text-column",
                                         help="Text column of a table file (default: text)."),
    output: Optional[str] = typer.Option(
        None, "--output", "--out", "-o",
        help="Where to save the .npy (default: <file>.npy); with --ray, the folder of parquet shards."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Texts per batch."),
    normalize: bool = typer.Option(False, "--normalize", help="Scale every embedding to length 1."),
    precision: str = typer.Option("float32", "--precision", help="float32, int8, uint8, binary or ubinary."),
    ray: bool = typer.Option(False, "--ray", help="Embed on a Ray cluster; write parquet shards of id + embedding."),
    ray_address: Optional[str] = typer.Option(
        None, "--ray-address",
        help="With --ray: the cluster, e.g. ray://head:10001 (default: RAY_ADDRESS, else a local one)."),
    id_column: Optional[str] = typer.Option(None, "--id-column", help="With --ray: id column (default: id, else _id)."),
    num_actors: Optional[int] = typer.Option(
        None, "--num-actors", min=1, help="With --ray: model copies (default: one per CPU, or per GPU share)."),
    gpus_per_actor: Optional[float] = typer.Option(
        None, "--gpus-per-actor", min=0, help="With --ray: GPUs per model copy, e.g. 1 or 0.5 (default: 0, CPU)."),
) -> None:
    """Encode texts to embeddings and save them as a NumPy .npy file (or, with --ray, as parquet shards)."""
    import numpy as np

    from ..quantization import PRECISIONS

    if precision not in PRECISIONS:
        raise SentforgeError(f"Unknown --precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")
    ray_options = {"--ray-address": ray_address, "--id-column": id_column, "--num-actors": num_actors,
                   "--gpus-per-actor": gpus_per_actor}
    if ray:
        _encode_on_ray(model, file, output, column, id_column, batch_size, normalize, precision, num_actors,
                       gpus_per_actor or 0.0, ray_address)
        return
    given = [name for name, value in ray_options.items() if value is not None]
    if given:
        raise SentforgeError(f"{', '.join(given)} only apply with --ray. Add --ray, or leave them out.")
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


def _encode_on_ray(model: str, corpus: str, output: Optional[str], text_column: Optional[str],
                   id_column: Optional[str], batch_size: int, normalize: bool, precision: str,
                   num_actors: Optional[int], gpus_per_actor: float, address: Optional[str]) -> None:
    from ..bulk import encode_on_ray

    folder = output or Path(corpus.rstrip("/")).stem + "_embeddings"
    result = encode_on_ray(model, corpus, folder, id_column=id_column, text_column=text_column,
                           batch_size=batch_size, normalize=normalize, precision=precision, num_actors=num_actors,
                           gpus_per_actor=gpus_per_actor, address=address, progress=out.console.is_terminal)
    out.say(f"Encoded {result.rows} texts on Ray: {result.dimension} values of {result.dtype} each"
            f"{', normalized' if normalize else ''}, in {len(result.shards)} parquet shard(s).")
    out.say(f"Saved to {result.folder}")


def read_texts(path: Path, column: Optional[str]) -> tuple[list[str], int]:
    """The texts to embed and the number of blank lines skipped (txt files only)."""
    import pyarrow as pa

    if path.suffix.lower() == ".txt":
        return _read_lines(path)
    from ..data import load_data

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
    from ..data.files import check_utf8

    if not path.is_file():
        raise SentforgeError(f"File not found: '{path}' (working directory: {Path.cwd()}). Check the path.")
    check_utf8(path)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    texts = [line for line in lines if line.strip()]
    if not texts:
        raise SentforgeError(f"'{path.name}' has no text: write one text per line.")
    return texts, len(lines) - len(texts)
