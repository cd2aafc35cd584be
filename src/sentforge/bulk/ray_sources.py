"""Open a corpus (one file or a folder of shards, local or a URI such as s3://) as a Ray Dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import SentforgeError

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "tsv", ".json": "json", ".jsonl": "json"}
DEFAULT_ID_COLUMNS = ("id", "_id")
DEFAULT_TEXT_COLUMN = "text"


@dataclass
class CorpusLocation:
    """Where a corpus is (an absolute path or a URI), its format, and the name the user gave."""

    location: str
    kind: str
    source: str


@dataclass
class CorpusDataset:
    """A Ray Dataset of a corpus and the names of its id and text columns."""

    dataset: Any
    id_column: str
    text_column: str


def open_corpus(corpus: CorpusLocation, id_column: str | None = None, text_column: str | None = None) -> CorpusDataset:
    """Read a located corpus with Ray Data and check that it has an id column and a text column of strings."""
    import ray.data

    location, kind = corpus.location, corpus.kind
    # Read tasks ask for no CPU: the actors may hold most CPUs, and reads waiting for one could stall the run.
    options = {"file_extensions": _extensions(kind), "num_cpus": 0}
    if kind == "parquet":
        dataset = ray.data.read_parquet(location, **options)
    elif kind == "json":
        dataset = ray.data.read_json(location, **options)
    else:
        from pyarrow import csv

        dataset = ray.data.read_csv(location, parse_options=csv.ParseOptions(delimiter="\t" if kind == "tsv" else ","),
                                    **options)
    return CorpusDataset(dataset, *check_columns(dataset.schema(), corpus.source, id_column, text_column))


def locate(source: str) -> CorpusLocation:
    """An absolute path (or the URI) of ``source`` and its format, from its suffix or its files' suffixes."""
    import pyarrow as pa
    import pyarrow.fs as pafs

    if "://" in source:
        try:
            fs, path = pafs.FileSystem.from_uri(source)
        except (pa.ArrowException, OSError, ValueError) as err:
            raise SentforgeError(f"Could not open '{source}': {err}. Check the URI.") from None
        location = source
    else:
        fs, path = pafs.LocalFileSystem(), str(Path(source).expanduser().resolve())
        location = path
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise SentforgeError(f"Corpus not found: '{source}' (working directory: {Path.cwd()}). Check the path.")
    if info.type == pafs.FileType.File:
        return CorpusLocation(location, _format_of(source), source)
    names = [entry.path for entry in fs.get_file_info(pafs.FileSelector(path, recursive=True))
             if entry.type == pafs.FileType.File and not Path(entry.path).name.startswith((".", "_"))]
    kinds = {FORMATS.get(Path(name).suffix.lower()) for name in names}
    kinds.discard(None)
    if len(kinds) != 1:
        found = ", ".join(sorted(kinds)) if kinds else "no parquet, csv, tsv, json or jsonl files"
        raise SentforgeError(f"The folder '{source}' must hold shards of one format; found {found}. "
                             "Put one format in the folder, or name one file.")
    return CorpusLocation(location, kinds.pop(), source)


def check_columns(schema: Any, source: str, id_column: str | None, text_column: str | None) -> tuple[str, str]:
    """The id and text column names; a SentforgeError when one is missing or the texts are not strings."""
    import pyarrow as pa

    if schema is None:
        raise SentforgeError(f"The corpus '{source}' has no rows. Point it at a file or folder with data.")
    columns = list(schema.names)
    id_name = id_column or next((name for name in DEFAULT_ID_COLUMNS if name in columns), None)
    if id_name is None:
        raise SentforgeError(f"No id column: the corpus has {', '.join(columns)}. Name one with --id-column NAME.")
    text_name = text_column or DEFAULT_TEXT_COLUMN
    missing = [name for name in (id_name, text_name) if name not in columns]
    if missing:
        raise SentforgeError(
            f"The corpus has no column {', '.join(repr(m) for m in missing)}; its columns are {', '.join(columns)}. "
            "Pick them with --id-column and --text-column."
        )
    kind = schema.types[columns.index(text_name)]
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or _is_string_view(kind)):
        raise SentforgeError(f"Column '{text_name}' holds {kind}, not text. Pick a text column with --text-column.")
    return id_name, text_name


def _format_of(source: str) -> str:
    kind = FORMATS.get(Path(source).suffix.lower())
    if kind is None:
        raise SentforgeError(f"Cannot read '{Path(source).name}' on Ray: use a parquet, csv, tsv, json or jsonl "
                             "file (or a folder of them).")
    return kind


def _extensions(kind: str) -> list[str]:
    return [suffix.lstrip(".") for suffix, name in FORMATS.items() if name == kind]


def _is_string_view(kind: Any) -> bool:
    import pyarrow as pa

    return bool(getattr(pa.types, "is_string_view", lambda _: False)(kind))
