"""Inference backends beyond the default torch path: reduced weight precision (``quantize_model``) and
ONNX (``SentenceTransformer(..., backend="onnx")``, ``export_dynamic_quantized_onnx_model``).
Loaded on first use, so that ``import sentforge`` does not pay for them."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "WEIGHT_PRECISIONS": ".weight_precision",
    "quantize_model": ".weight_precision",
    "export_dynamic_quantized_onnx_model": ".onnx_export",
    "export_optimized_onnx_model": ".onnx_export",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'sentforge.backends' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name], __name__), name)


__all__ = sorted(_LAZY)
