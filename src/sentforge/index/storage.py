"""Index files on disk: the id/text rows (parquet) and an atomic folder write (temp folder, then rename)."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path
from typing import Callable

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import SentforgeError

from .manifest import MANIFEST_FILE


def write_rows(path: Path, ids: list[str], texts: list[str]) -> None:
    """The index's rows in key order: columns ``id`` and ``text``."""
    table = pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())})
    pq.write_table(table, path)


def read_rows(path: Path) -> tuple[list[str], list[str]]:
    """``(ids, texts)`` written by ``write_rows``."""
    if not path.is_file():
        raise SentforgeError(f"The index file {path} is missing. Rebuild the index with `sentforge index`.")
    table = pq.read_table(path, columns=["id", "text"])
    return table.column("id").to_pylist(), table.column("text").to_pylist()


def write_folder_atomically(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(folder)`` on a temp folder beside ``target``, then rename it into place.

    A crash leaves either the old index or the new one, never half of one. An existing ``target``
    is replaced only when it is an index folder (it has a manifest) or empty: other folders are
    never deleted.
    """
    target = Path(target).expanduser().absolute()
    _refuse_foreign_folder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        write(staging)
        _fsync_folder(staging)
        if target.exists():
            retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(target, retired)
            os.rename(staging, target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _refuse_foreign_folder(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise SentforgeError(f"'{target}' is a file. Pass a folder path for the index (--out DIR).")
    if target.is_dir() and not (target / MANIFEST_FILE).is_file() and any(target.iterdir()):
        raise SentforgeError(
            f"'{target}' is a folder with other files in it, not a sentforge index; it is not replaced. "
            "Choose a new or empty folder for --out."
        )


def _fsync_folder(folder: Path) -> None:
    """Flush the folder's files, then the folder itself, to disk."""
    for path in folder.iterdir():
        if path.is_file():
            _fsync(path, os.O_RDONLY)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    _fsync(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))


def _fsync(path: Path, flags: int) -> None:
    """Best effort: not every filesystem lets a folder be opened or synced."""
    with contextlib.suppress(OSError):
        handle = os.open(path, flags)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
