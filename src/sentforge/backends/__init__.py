"""Opt-in reduced-precision encode paths for CPU inference: ``quantize_model(model, "int8" | "bfloat16")``."""

from __future__ import annotations

from .weight_precision import WEIGHT_PRECISIONS, quantize_model

__all__ = ["WEIGHT_PRECISIONS", "quantize_model"]
