"""The sentence-transformers folder format: modules.json and config_sentence_transformers.json.

We write the classic keys every reader understands and accept the newer ones on load.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Any, Iterable, Iterator

from .errors import SentforgeError

MODULES_FILE = "modules.json"
ST_CONFIG_FILE = "config_sentence_transformers.json"
CLASSIC_TYPE = "sentence_transformers.models.{}"
KNOWN_MODULES = ("Transformer", "Pooling", "Dense", "Normalize")
logger = logging.getLogger(__name__)


def read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise SentforgeError(f"{path} is not valid JSON ({err}). Repair or re-save the model folder.") from None


def write_json(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2)


def module_class_name(type_path: str) -> str:
    """`sentence_transformers.models.Pooling` or `...modules.pooling.Pooling` -> `Pooling`."""
    name = type_path.rsplit(".", 1)[-1]
    if name not in KNOWN_MODULES:
        raise SentforgeError(
            f"modules.json names an unsupported module type {type_path!r}. sentforge supports "
            f"{', '.join(KNOWN_MODULES)}; re-save the model with those modules."
        )
    return name


def read_modules(model_dir: str) -> list[dict[str, Any]]:
    """Entries of modules.json sorted by idx; a module path that leaves the folder is refused."""
    entries = read_json(os.path.join(model_dir, MODULES_FILE))
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SentforgeError(f"{model_dir}/modules.json must be a list of modules. Re-save the model folder.")
    for entry in entries:
        module_dir(model_dir, entry)
    return sorted(entries, key=lambda e: e.get("idx", 0))


def module_dir(model_dir: str, entry: dict[str, Any]) -> str:
    """The folder of one modules.json entry, which must lie inside ``model_dir``.

    A path that is absolute, climbs out with ``..`` or resolves through a symlink to somewhere
    else would load (and, for some modules, run) files the model folder does not hold.
    Files inside a module folder may still be symlinks (the Hugging Face cache links to blobs).
    """
    path = entry.get("path", "")
    if not isinstance(path, str):
        raise SentforgeError(f"{model_dir}/modules.json has a module path {path!r} that is not a string.")
    folder = os.path.join(model_dir, path)
    root = os.path.realpath(model_dir)
    resolved = os.path.realpath(folder)
    if os.path.isabs(path) or (resolved != root and not resolved.startswith(root.rstrip(os.sep) + os.sep)):
        raise SentforgeError(
            f"{model_dir}/modules.json names the module path {path!r}, which lies outside the model folder "
            f"(it resolves to {resolved!r}). Module folders must be inside the model folder; fix modules.json "
            "or re-save the model."
        )
    return folder


def module_folder_name(index: int, class_name: str) -> str:
    """The Transformer lives in the root; later modules in `<idx>_<Class>`."""
    return "" if index == 0 and class_name == "Transformer" else f"{index}_{class_name}"


def modules_entries(class_names: list[str], names: list[str] | None = None) -> list[dict[str, Any]]:
    """modules.json entries: ``name`` is the module's name in the model (``"0"``, ``"1"``... unless the
    model was built from a named OrderedDict), ``path`` always ``<idx>_<Class>`` as sentence-transformers saves."""
    names = names if names is not None else [str(i) for i in range(len(class_names))]
    return [
        {"idx": i, "name": name, "path": module_folder_name(i, class_name), "type": CLASSIC_TYPE.format(class_name)}
        for i, (class_name, name) in enumerate(zip(class_names, names))
    ]


def module_name(model_dir: str, entry: dict[str, Any], taken: Iterable[str] = ()) -> str:
    """The name a modules.json entry gives its module (its ``idx`` for entries without one); a name used
    twice, or one torch cannot take, is an error."""
    name = entry.get("name", entry.get("idx"))
    name = str(name) if isinstance(name, (str, int)) else ""
    if not name or "." in name or name in taken:
        problem = "is used twice" if name and name in taken else "is not a valid module name (empty, or with '.')"
        raise SentforgeError(
            f"{model_dir}/modules.json: the module name {name!r} {problem}. Give each module a unique name "
            "without dots, or re-save the model."
        )
    return name


def framework_versions() -> dict[str, str]:
    import torch
    import transformers

    from . import __version__

    return {"sentforge": __version__, "transformers": transformers.__version__, "pytorch": torch.__version__}


STAGING_PREFIX = ".sentforge-staging-"
BACKUP_PREFIX = ".sentforge-backup-"
# Root files of a saved model that would be read as part of the next model saved there.
_MODEL_FILE_PATTERNS = (
    "model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json",
    "pytorch_model.bin", "pytorch_model-*-of-*.bin", "pytorch_model.bin.index.json",
    "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
    "vocab.txt", "vocab.json", "merges.txt", "tokenizer.model", "spiece.model", "sentencepiece.bpe.model",
)


def previous_model_entries(folder: str) -> list[str]:
    """Names in ``folder`` that belong to a model saved there before (module folders, weights, tokenizer).

    A new save replaces these as a whole, so that no file of the old model is read as part of
    the new one; anything else in the folder (checkpoints, notes) is not the model's and stays.
    """
    if not os.path.isdir(folder):
        return []
    names = set(os.listdir(folder))
    if MODULES_FILE not in names and "config.json" not in names:
        return []
    stale = {n for n in names if any(fnmatch.fnmatchcase(n, p) for p in _MODEL_FILE_PATTERNS)}
    try:
        entries = read_json(os.path.join(folder, MODULES_FILE)) if MODULES_FILE in names else []
    except (OSError, SentforgeError):
        entries = []
    for entry in entries if isinstance(entries, list) else []:
        path = entry.get("path") if isinstance(entry, dict) else None
        if isinstance(path, str) and path in names and os.path.isdir(os.path.join(folder, path)):
            stale.add(path)
    return sorted(stale)


@contextmanager
def atomic_directory(target: str, stale: Iterable[str] = ()) -> Iterator[str]:
    """Yield a staging folder to write into; on success its entries take their place in ``target``.

    All or nothing: if the writing or the moving in fails, the staging folder is removed and
    ``target`` is left as it was. A new ``target`` is the staging folder renamed. An existing
    ``target`` (a folder, or a symlink to one) is written into, as sentence-transformers does:
    each staged entry replaces its namesake, the ``stale`` names (the previous model's files)
    are removed, and everything else (a run's checkpoints, say) is kept. Staging happens inside
    an existing ``target``, so every rename stays on its filesystem. Written files and folders
    get the modes the process umask gives (0644/0755 under umask 022).
    """
    target = os.path.realpath(target)
    if os.path.lexists(target) and not os.path.isdir(target):
        raise SentforgeError(f"Cannot save to {target!r}: it is not a folder. Pass a folder path to save into.")
    exists = os.path.isdir(target)
    parent = os.path.dirname(target)
    if not exists:
        os.makedirs(parent, exist_ok=True)
    prefix = STAGING_PREFIX if exists else f".{os.path.basename(target)}{STAGING_PREFIX}"
    staging = tempfile.mkdtemp(prefix=prefix, dir=target if exists else parent)
    try:
        yield staging
        apply_umask(staging)
        if exists:
            _move_in(staging, target, [n for n in stale if n not in os.listdir(staging)])
        else:
            os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_in(staging: str, target: str, stale: list[str]) -> None:
    """Move staged entries into ``target`` (old namesakes and ``stale`` set aside); undo on failure."""
    backup = tempfile.mkdtemp(prefix=BACKUP_PREFIX, dir=target)
    set_aside: list[str] = []
    placed: list[str] = []
    try:
        for name in sorted(os.listdir(staging)):
            if _set_aside(target, backup, name):
                set_aside.append(name)
            os.replace(os.path.join(staging, name), os.path.join(target, name))
            placed.append(name)
        for name in stale:
            if _set_aside(target, backup, name):
                set_aside.append(name)
    except BaseException:
        if _roll_back(target, backup, set_aside, placed):  # else the backup keeps what could not be restored
            shutil.rmtree(backup, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def _set_aside(target: str, backup: str, name: str) -> bool:
    """Move ``target/name`` into ``backup`` if it exists; True when something was moved."""
    path = os.path.join(target, name)
    if not os.path.lexists(path):
        return False
    os.replace(path, os.path.join(backup, name))
    return True


def _roll_back(target: str, backup: str, set_aside: list[str], placed: list[str]) -> bool:
    """Remove the placed entries and restore the set-aside ones; False if something could not be restored."""
    for name in reversed(placed):
        try:
            _remove(os.path.join(target, name))
        except OSError as err:
            logger.error("Could not remove %s after a failed save: %s", os.path.join(target, name), err)
    restored = True
    for name in reversed(set_aside):
        try:
            _remove(os.path.join(target, name))
            os.replace(os.path.join(backup, name), os.path.join(target, name))
        except OSError as err:
            restored = False
            logger.error("Could not restore %s from %s after a failed save: %s", name, backup, err)
    return restored


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.remove(path)


def current_umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_file_atomically(path: str | os.PathLike[str], content: bytes) -> None:
    """Write ``path`` through a temporary file and ``os.replace``: a crash leaves the old file or the new
    one, never half of one; the file gets the mode the umask gives (``mkstemp`` alone makes it 0600)."""
    path = os.fspath(path)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=f".{os.path.basename(path)}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def apply_umask(folder: str) -> None:
    """Give ``folder`` and everything in it the modes the umask gives new files (safetensors and
    ``mkdtemp`` create owner-only ones): 0o666 & ~umask for files, 0o777 & ~umask for folders."""
    mask = current_umask()
    os.chmod(folder, 0o777 & ~mask)
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, (0o777 if os.path.isdir(path) else 0o666) & ~mask)
