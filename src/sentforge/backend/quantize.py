"""Drop-in path ``sentforge.backend.quantize``: ``export_dynamic_quantized_onnx_model``, and
``export_static_quantized_openvino_model``, which raises the error ``backend="openvino"`` gets."""

from __future__ import annotations

from typing import Any

from ..backends.choice import check_backend
from ..backends.onnx_export import export_dynamic_quantized_onnx_model

__all__ = ["export_dynamic_quantized_onnx_model", "export_static_quantized_openvino_model"]


def export_static_quantized_openvino_model(*args: Any, **kwargs: Any) -> None:
    """Not supported: sentforge does not run OpenVINO; raises a SentforgeError saying what to use instead."""
    check_backend("openvino")
