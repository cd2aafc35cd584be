"""Drop-in path ``sentforge.backend`` (as ``sentence_transformers.backend``): the ONNX export functions
of :mod:`sentforge.backends`, and the OpenVINO one, which refuses clearly. Loaded on first use."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "export_dynamic_quantized_onnx_model": "quantize",
    "export_optimized_onnx_model": "optimize",
    "export_static_quantized_openvino_model": "quantize",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    elif name in ("optimize", "quantize"):
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = sorted(_LAZY)
