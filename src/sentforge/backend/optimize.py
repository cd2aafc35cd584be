"""Drop-in path ``sentforge.backend.optimize``: ``export_optimized_onnx_model``."""

from ..backends.onnx_export import export_optimized_onnx_model

__all__ = ["export_optimized_onnx_model"]
