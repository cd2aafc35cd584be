"""Which backend a SentenceTransformer runs on: torch or onnx; OpenVINO gets a clear refusal."""

from __future__ import annotations

import importlib.util
from typing import Any

from ..errors import SentforgeError


def check_backend(backend: str) -> None:
    """Return for ``"torch"`` and ``"onnx"``; a SentforgeError that says what to do for anything else."""
    if backend in ("torch", "onnx"):
        return
    if backend == "openvino":
        missing = importlib.util.find_spec("openvino") is None
        first = ("backend='openvino' needs OpenVINO (pip install openvino), and sentforge does not run it yet. "
                 if missing else "backend='openvino' is not supported by sentforge yet. ")
        raise SentforgeError(
            first + "Use backend='onnx' (onnxruntime) or backend='torch'; for int8 on CPU see "
            "sentforge.backends.quantize_model(model, 'int8')."
        )
    raise SentforgeError(f"Unsupported backend {backend!r}. `backend` should be 'torch', 'onnx' or 'openvino'.")


def split_onnx_options(backend: str, model_kwargs: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """``model_kwargs`` less the ONNX backend's own switches (file, provider, export...), and those switches."""
    if backend != "onnx":
        return model_kwargs, {}
    from .onnx_runtime import ONNX_OPTIONS

    rest = dict(model_kwargs or {})
    return rest, {key: rest.pop(key) for key in ONNX_OPTIONS if key in rest}
