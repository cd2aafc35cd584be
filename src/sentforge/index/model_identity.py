"""Which weights made an index: the sha256 of ``model.safetensors`` and a fingerprint of the parameters.

An index is only meaningful with the model that encoded it: a query embedded by other weights lands
in another space and the ranking is noise. Loading an index with a model therefore compares these.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import SentforgeError

WEIGHTS_FILE = "model.safetensors"
_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_file(folder: str | Path) -> Path | None:
    """The ``model.safetensors`` of a model folder: at its root, or in its Transformer module's folder."""
    folder = Path(folder)
    if (folder / WEIGHTS_FILE).is_file():
        return folder / WEIGHTS_FILE
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for module in modules if isinstance(modules, list) else []:
        if not isinstance(module, dict) or not module.get("path"):
            continue
        candidate = folder / str(module["path"]) / WEIGHTS_FILE
        if candidate.is_file():
            return candidate
    return None


def parameters_fingerprint(model: torch.nn.Module) -> str:
    """sha256 over the model's state dict (names, dtypes, shapes and bytes, in name order)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if not isinstance(tensor, torch.Tensor):
            continue
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}|{flat.dtype}|{tuple(tensor.shape)}|".encode())
        if flat.numel():
            digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelIdentity:
    """A model's name as given, its folder (when known) and the two hashes of its weights."""

    name: str
    path: str | None
    sha256: str | None
    fingerprint: str

    @classmethod
    def of(cls, model: Any, name: str | None = None, folder: str | None = None) -> "ModelIdentity":
        """The identity of a loaded model; ``folder`` is where it was loaded from, if known."""
        weights = weights_file(folder) if folder else None
        return cls(
            name=name or folder or type(model).__name__,
            path=os.path.abspath(folder) if folder else None,
            sha256=file_sha256(weights) if weights else None,
            fingerprint=parameters_fingerprint(model),
        )


def check_same_weights(built_with: ModelIdentity, given: ModelIdentity, index_dir: str | Path) -> None:
    """Refuse a model whose weights differ from those that encoded the index."""
    if built_with.sha256 and given.sha256:
        kind, theirs, ours = "model.safetensors sha256", built_with.sha256, given.sha256
    else:
        kind, theirs, ours = "weights fingerprint", built_with.fingerprint, given.fingerprint
    if theirs == ours:
        return
    raise SentforgeError(
        f"The index at '{index_dir}' was built with other weights than the model '{given.name}': {kind} "
        f"{theirs[:12]}... (index, model '{built_with.name}') vs {ours[:12]}... (given). Queries embedded by "
        "another model do not match the index's vectors. Use the model the index was built with (leave --model "
        f"out to use '{built_with.path or built_with.name}'), or rebuild the index with this model: "
        f"sentforge index {given.name} CORPUS --out {index_dir} --overwrite"
    )


def load_model_with_identity(name: str, device: str | None = None, **model_options: Any) -> tuple[Any, ModelIdentity]:
    """Load a model by name or folder (``model_options``: ``backend``, ``model_kwargs``...), and its identity
    (file sha256 and parameter fingerprint)."""
    from ..pipeline.models import load_model
    from ..hub import resolve_model_path

    folder = resolve_model_path(name)
    model = load_model(folder, device=device, **model_options)
    return model, ModelIdentity.of(model, name=name, folder=folder)
