"""The sentence-transformers folder format: modules.json and config_sentence_transformers.json.

We write the classic keys every reader understands and accept the newer ones on load.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator

from .errors import SentforgeError

MODULES_FILE = "modules.json"
ST_CONFIG_FILE = "config_sentence_transformers.json"
CLASSIC_TYPE = "sentence_transformers.models.{}"
KNOWN_MODULES = ("Transformer", "Pooling", "Dense", "Normalize")


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
    """Entries of modules.json sorted by idx."""
    entries = read_json(os.path.join(model_dir, MODULES_FILE))
    if not isinstance(entries, list):
        raise SentforgeError(f"{model_dir}/modules.json must be a list of modules. Re-save the model folder.")
    return sorted(entries, key=lambda e: e.get("idx", 0))


def module_folder_name(index: int, class_name: str) -> str:
    """The Transformer lives in the root; later modules in `<idx>_<Class>`."""
    return "" if index == 0 and class_name == "Transformer" else f"{index}_{class_name}"


def modules_entries(class_names: list[str]) -> list[dict[str, Any]]:
    return [
        {"idx": i, "name": str(i), "path": module_folder_name(i, name), "type": CLASSIC_TYPE.format(name)}
        for i, name in enumerate(class_names)
    ]


def framework_versions() -> dict[str, str]:
    import torch
    import transformers

    from . import __version__

    return {"sentforge": __version__, "transformers": transformers.__version__, "pytorch": torch.__version__}


@contextmanager
def atomic_directory(target: str) -> Iterator[str]:
    """Yield a temporary sibling folder to write into; on success it takes ``target``'s place.

    A crash while writing leaves the previous ``target`` intact, so a save never loses a model.
    An absent or empty ``target`` is replaced in one rename; in a folder that already holds other
    files (a training output folder with checkpoints, say) each written entry replaces its namesake
    and everything else is left alone.
    """
    target = os.path.abspath(target)
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.tmp-", dir=parent)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not os.path.exists(target) or (os.path.isdir(target) and not os.listdir(target)):
        if os.path.isdir(target):
            os.rmdir(target)
        os.replace(tmp, target)
        return
    trash = tempfile.mkdtemp(prefix=f".{os.path.basename(target)}.old-", dir=parent)
    for name in os.listdir(tmp):
        dest = os.path.join(target, name)
        if os.path.isdir(dest) and not os.path.islink(dest):
            os.replace(dest, os.path.join(trash, name))
        os.replace(os.path.join(tmp, name), dest)
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)
