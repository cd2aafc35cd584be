"""``manifest.json`` of an index folder: which model made the vectors, how, and how many there are."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SentforgeError

MANIFEST_FILE = "manifest.json"
VECTORS_FILE = "vectors.npy"
GRAPH_FILE = "graph.usearch"
ROWS_FILE = "rows.parquet"
FORMAT_NAME = "sentforge-index"
FORMAT_VERSION = 1


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string (seconds)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


@dataclass
class IndexManifest:
    """What an index folder holds. ``model_sha256`` is the sha256 of the model's ``model.safetensors``
    (None when the index was built from a model held only in memory); ``weights_fingerprint`` is a
    sha256 over the model's parameters, so an in-memory model can be checked too. ``search`` is
    ``exact`` (brute force) or ``hnsw`` (approximate, with ``graph.usearch``, for large indexes)."""

    model: str
    model_path: str | None
    model_sha256: str | None
    weights_fingerprint: str
    dimension: int
    count: int
    precision: str = "float32"
    metric: str = "cosine"
    normalized: bool = True
    sentforge_version: str = ""
    created: str = field(default_factory=utc_now)
    updated: str | None = None
    id_column: str | None = None
    text_columns: list[str] | None = None
    search: str = "exact"
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION
    files: dict[str, str] = field(default_factory=lambda: {"vectors": VECTORS_FILE, "rows": ROWS_FILE})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into ``folder``."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        (Path(folder) / MANIFEST_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, folder: str | Path) -> "IndexManifest":
        """Read ``manifest.json`` of an index folder; a clear error when it is missing or not ours."""
        path = Path(folder) / MANIFEST_FILE
        if not Path(folder).is_dir():
            raise SentforgeError(f"No index folder at '{folder}'. Build one with: "
                                 f"sentforge index MODEL CORPUS --out {folder}")
        if not path.is_file():
            raise SentforgeError(
                f"'{folder}' has no {MANIFEST_FILE}, so it is not a sentforge index. Point to the folder written by "
                "`sentforge index ... --out DIR`."
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise SentforgeError(f"{path} is not valid JSON ({err}). Rebuild the index with `sentforge index`."
                                 ) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
            raise SentforgeError(f"{path} is not a sentforge index manifest. Rebuild the index with `sentforge index`.")
        if data.get("format_version", 0) > FORMAT_VERSION:
            raise SentforgeError(
                f"The index at '{folder}' has format version {data['format_version']}, newer than this sentforge reads "
                f"({FORMAT_VERSION}). Upgrade sentforge or rebuild the index."
            )
        known = set(cls.__dataclass_fields__)
        try:
            return cls(**{key: value for key, value in data.items() if key in known})
        except TypeError as err:
            raise SentforgeError(f"{path} is missing fields ({err}). Rebuild the index with `sentforge index`."
                                 ) from None
