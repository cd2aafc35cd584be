"""``backend="onnx"``: the Transformer module's encoder runs in onnxruntime.

``SentenceTransformer(path, backend="onnx")`` reads ``onnx/model.onnx`` from the model folder (or the
file named by ``model_kwargs={"file_name": ...}``); when the folder has none, the encoder is exported
once with torch.onnx into the folder's ``onnx/`` (or, if that is not writable, a temporary folder).
``model_kwargs`` may also name the ``provider`` (default ``CPUExecutionProvider``) and ``export=True``
(export again even when a file exists). onnxruntime's graph optimizations are on.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import SentforgeError
from .onnx_export import ONNX_FILE, ONNX_FOLDER, _require, export_onnx, input_names

logger = logging.getLogger(__name__)
ONNX_OPTIONS = ("file_name", "provider", "export", "session_options", "provider_options")
"""The ``model_kwargs`` keys that configure the ONNX backend (any others go to the torch model it is exported from)."""


class OnnxEncoder:
    """An onnxruntime session over an exported encoder: token tensors in, ``token_embeddings`` out."""

    def __init__(self, path: Path, names: list[str], provider: str = "CPUExecutionProvider",
                 session_options: Any = None, provider_options: dict | None = None) -> None:
        import onnxruntime as ort

        options = session_options or ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if session_options is None:
            options.intra_op_num_threads = torch.get_num_threads()
        available = ort.get_available_providers()
        if provider not in available:
            raise SentforgeError(f"onnxruntime has no {provider} here (available: {', '.join(available)}). "
                                 "Pass model_kwargs={'provider': ...} with one of them.")
        self.path = Path(path)
        self.names = names
        self.session = ort.InferenceSession(str(path), sess_options=options, providers=[provider],
                                            provider_options=[provider_options] if provider_options else None)
        graph_inputs = {item.name for item in self.session.get_inputs()}
        self.names = [name for name in names if name in graph_inputs]

    def __call__(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        ids = features["input_ids"]
        feeds = {name: _int64(features[name] if name in features else torch.zeros_like(ids)) for name in self.names}
        (hidden,) = self.session.run(["last_hidden_state"], feeds)
        return torch.from_numpy(hidden).to(features["input_ids"].device)


def attach_onnx(model: Any, folder: str | None, options: dict[str, Any]) -> OnnxEncoder:
    """Give ``model``'s first (Transformer) module an onnxruntime encoder; export the graph when needed."""
    _require("onnxruntime", "use backend='onnx'")
    transformer = model[0]
    if not hasattr(transformer, "auto_model"):
        raise SentforgeError("backend='onnx' needs a Transformer module first in the model.")
    file_name = options.get("file_name") or ONNX_FILE
    path = _find_graph(folder, file_name)
    if path is None or options.get("export"):
        if options.get("file_name") and not options.get("export"):
            raise SentforgeError(f"No ONNX file {file_name!r} in {folder}/{ONNX_FOLDER}. Leave file_name out to "
                                 "export model.onnx, or create the file first (e.g. export_dynamic_quantized_onnx_model).")
        path = export_onnx(transformer, _export_target(folder))
    encoder = OnnxEncoder(path, input_names(transformer), options.get("provider", "CPUExecutionProvider"),
                          options.get("session_options"), options.get("provider_options"))
    transformer.onnx = encoder
    return encoder


def copy_graph(encoder: OnnxEncoder, output_path: str) -> None:
    """Save the ONNX file beside a saved model, in its ``onnx/`` folder."""
    target = Path(output_path) / ONNX_FOLDER / encoder.path.name
    if target.resolve() != encoder.path.resolve():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(encoder.path, target)


def _find_graph(folder: str | None, file_name: str) -> Path | None:
    if folder is None:
        return None
    candidates = [Path(folder) / ONNX_FOLDER / file_name, Path(folder) / file_name]
    if _installed_package(folder):
        candidates.append(_cache_target(folder).with_name(file_name))
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _export_target(folder: str | None) -> Path:
    """``<folder>/onnx/model.onnx`` when that folder can be written and is not part of an installed
    package (those exports go to the user's cache, keyed by the weights file), else a temporary folder's."""
    if folder is not None and _installed_package(folder):
        return _cache_target(folder)
    if folder is not None and os.access(folder, os.W_OK):
        return Path(folder) / ONNX_FOLDER / ONNX_FILE
    target = Path(tempfile.mkdtemp(prefix="sentforge-onnx-")) / ONNX_FILE
    logger.info("The model folder cannot be written; the ONNX export goes to %s (save the model to keep it).", target)
    return target


def _installed_package(folder: str) -> bool:
    """Whether ``folder`` lies in this Python's site-packages (a model installed with pip)."""
    import sysconfig

    resolved = Path(folder).resolve()
    roots = {Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")}
    return any(resolved.is_relative_to(root) for root in roots)


def _cache_target(folder: str) -> Path:
    """``<cache>/onnx/<key>/model.onnx``: the key follows the folder and its weights file's size and time."""
    import hashlib

    weights = Path(folder) / "model.safetensors"
    stamp = f"{weights.stat().st_size}-{weights.stat().st_mtime_ns}" if weights.is_file() else ""
    key = hashlib.sha256(f"{Path(folder).resolve()}|{stamp}".encode()).hexdigest()[:16]
    cache = Path(os.environ.get("SENTFORGE_CACHE") or Path.home() / ".cache" / "sentforge")
    return cache / "onnx" / key / ONNX_FILE


def _int64(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to("cpu", torch.int64).numpy()
