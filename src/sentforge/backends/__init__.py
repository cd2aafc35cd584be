"""Inference backends beyond the default torch path: reduced weight precision (``quantize_model``) and
ONNX (``SentenceTransformer(..., backend="onnx")``, ``export_dynamic_quantized_onnx_model``)."""

from __future__ import annotations

from .onnx_export import export_dynamic_quantized_onnx_model, export_optimized_onnx_model
from .weight_precision import WEIGHT_PRECISIONS, quantize_model

__all__ = ["WEIGHT_PRECISIONS", "export_dynamic_quantized_onnx_model", "export_optimized_onnx_model", "quantize_model"]
