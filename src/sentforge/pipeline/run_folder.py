"""The output folder of one training run: one run at a time, never two runs' files mixed.

`sentforge train` takes a lock file in the folder for the whole run, refuses a folder that already
holds files unless told to replace them (--overwrite) or to continue them (--resume), and clears
the old files only once the new run is about to train, so a run refused by its checks loses nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import SentforgeError
from .reporter import NullReporter, Reporter
from ..training.checkpoints import last_complete_checkpoint

LOCK_FILE = ".sentforge.lock"
"""Held while a run writes to the folder: pid, host and start time of that run."""

CHECKPOINT_FOLDER = "training"
"""Checkpoints and evaluator CSVs go to <output>/training; the final model to <output> itself."""


def run_files(folder: str | os.PathLike[str]) -> list[Path]:
    """What the folder holds from a run: its entries that hold a file (not the lock, not empty folders)."""
    path = Path(folder)
    if not path.is_dir():
        return []
    return sorted(entry for entry in path.iterdir() if entry.name != LOCK_FILE and _holds_files(entry))


def _holds_files(entry: Path) -> bool:
    if not entry.is_dir() or entry.is_symlink():
        return True
    return any(not sub.is_dir() or sub.is_symlink() for sub in entry.rglob("*"))


def check_run_folder(
    output: str, overwrite: bool = False, resume: bool = False, inputs: list[str] | None = None
) -> None:
    """Refuse a folder holding another run's files, unless --overwrite (replace) or --resume (continue)
    says so; with --resume the folder must hold a checkpoint to continue from."""
    if resume:
        resume_checkpoint(output)
        return
    files = run_files(output)
    if not files:
        return
    if overwrite:
        _check_safe_to_clear(output, inputs or [])
        return
    shown = ", ".join(entry.name for entry in files[:5]) + (", ..." if len(files) > 5 else "")
    raise SentforgeError(
        f"--output '{output}' already holds files of another run ({shown}). Pass --overwrite to delete them "
        "and train from scratch, --resume to continue that run from its last checkpoint, or choose another "
        "--output folder."
    )


def _check_safe_to_clear(output: str, inputs: list[str]) -> None:
    """--overwrite deletes the folder's files: never the data, recipe or base model being used, nor the cwd."""
    folder = Path(output).resolve()
    if Path.cwd().resolve().is_relative_to(folder):
        raise SentforgeError(
            f"--overwrite would delete '{output}', which holds the current folder. Choose another --output folder."
        )
    for given in inputs:
        if given and Path(given).exists() and Path(given).resolve().is_relative_to(folder):
            raise SentforgeError(
                f"--overwrite would delete '{given}', which this run reads, from '{output}'. "
                "Move it out of the folder or choose another --output folder."
            )


def clear_run_folder(output: str) -> list[str]:
    """Delete every file and folder of the old run (the lock stays); returns the names that held files."""
    removed = []
    for entry in sorted(Path(output).iterdir()) if Path(output).is_dir() else []:
        if entry.name == LOCK_FILE:
            continue
        if _holds_files(entry):
            removed.append(entry.name)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    return removed


def resume_checkpoint(output: str) -> str:
    """The newest complete checkpoint of the run in ``output``, or one clear error."""
    folder = Path(output) / CHECKPOINT_FOLDER
    checkpoint = last_complete_checkpoint(str(folder))
    if checkpoint is None:
        raise SentforgeError(
            f"--resume: '{folder}' holds no complete checkpoint to continue from (a finished run removes its "
            "checkpoints). Train without --resume, adding --overwrite to replace the folder's files."
        )
    return checkpoint


class RunLock:
    """``<folder>/.sentforge.lock``, created atomically; a lock left by a dead process is taken over."""

    def __init__(self, folder: str | os.PathLike[str], reporter: Reporter | None = None) -> None:
        self.folder = Path(folder)
        self.reporter = reporter or NullReporter()
        self.path = self.folder / LOCK_FILE
        self.content = json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        )

    def acquire(self) -> None:
        """Take the lock, or raise SentforgeError naming the run that holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                self._create()
                return
            except FileExistsError:
                text = _read(self.path)
                if text is None:  # released meanwhile: try again
                    continue
                if not _is_stale(_parse(text)):
                    break
                self._take_over(text)
        raise SentforgeError(_busy_message(self.folder, self.path, _read(self.path)))

    def release(self) -> None:
        """Remove the lock if it is still this run's."""
        if _read(self.path) == self.content:
            self.path.unlink(missing_ok=True)

    def _create(self) -> None:
        handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(self.content)

    def _take_over(self, stale: str) -> None:
        """Move the stale lock aside (one process wins the rename) and drop it if it is still the stale one."""
        aside = self.path.with_name(f"{LOCK_FILE}.stale-{os.getpid()}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            return
        if _read(aside) != stale:  # another run took it over first: put its lock back
            try:
                os.link(aside, self.path)
            except FileExistsError:
                pass
            aside.unlink(missing_ok=True)
            return
        aside.unlink(missing_ok=True)
        holder = _parse(stale)
        self.reporter.say(f"Took over a stale lock in '{self.folder}' (pid {holder.get('pid')} is no longer running).",
                style="yellow")

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextmanager
def claim_run_folder(output: str, overwrite: bool = False, resume: bool = False,
                     inputs: list[str] | None = None, reporter: Reporter | None = None) -> Iterator[None]:
    """Hold the folder's lock for the run and check what it holds; a folder made here and left empty goes."""
    folder = Path(output)
    created = not folder.exists()
    try:
        with RunLock(folder, reporter):
            check_run_folder(output, overwrite=overwrite, resume=resume, inputs=inputs)
            yield
    finally:
        if created and folder.is_dir() and not any(_holds_files(entry) for entry in folder.iterdir()):
            shutil.rmtree(folder, ignore_errors=True)  # made by this run, and it wrote nothing


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _parse(text: str | None) -> dict[str, Any]:
    try:
        record = json.loads(text or "")
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def _is_stale(holder: dict[str, Any]) -> bool:
    """A lock of this host whose process is gone (one from another host cannot be checked)."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or holder.get("host") != socket.gethostname():
        return False
    return not _alive(pid)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if os.name == "nt":  # os.kill would end the process there; assume it runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _busy_message(folder: Path, path: Path, text: str | None) -> str:
    holder = _parse(text)
    if not holder:
        who = "another training run (its lock file is unreadable)"
    else:
        who = f"another training run (pid {holder.get('pid')} on {holder.get('host')}, started {holder.get('started')})"
    return (
        f"--output '{folder}' is in use by {who}. Wait for it to finish or choose another --output folder. "
        f"If no such run is alive, delete '{path}' and try again."
    )
