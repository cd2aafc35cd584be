"""Embedding quantization, as ``sentence_transformers.util.quantization``.

int8 / uint8 map each dimension's calibration range onto 256 buckets (floor, clipped); binary /
ubinary keep the sign bits, packed 8 per byte. A list of ``(tokens, dim)`` matrices (multi-vector
embeddings) is quantized matrix by matrix with one shared calibration.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import torch
from torch import Tensor

logger = logging.getLogger(__name__)

__all__ = ["quantize_embeddings"]

Precision = Literal["float32", "int8", "uint8", "binary", "ubinary"]


def _to_numpy(tensor: Tensor) -> np.ndarray:
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).detach().cpu().numpy()


def quantization_ranges(
    embeddings: np.ndarray, precision: str, calibration_embeddings: np.ndarray | None
) -> np.ndarray:
    """Per-dimension ``[min; max]`` of the calibration embeddings (the embeddings themselves if none)."""
    if calibration_embeddings is None:
        if embeddings.ndim == 1 or embeddings.shape[0] == 1:
            raise ValueError(
                f"Cannot compute {precision} quantization ranges from a single embedding. "
                "Call `quantize_embeddings` with `ranges` or `calibration_embeddings` "
                "from a representative set of embeddings instead."
            )
        if embeddings.shape[0] < 100:
            logger.warning(
                f"Computing {precision} quantization buckets based on {len(embeddings)} embeddings."
                f" {precision} quantization is more stable with `ranges` calculated from more embeddings "
                "or a `calibration_embeddings` that can be used to calculate the buckets."
            )
        calibration_embeddings = embeddings
    return np.vstack((np.min(calibration_embeddings, axis=0), np.max(calibration_embeddings, axis=0)))


def quantize_embeddings(
    embeddings: Tensor | np.ndarray | list[Tensor] | list[np.ndarray],
    precision: Precision,
    ranges: np.ndarray | None = None,
    calibration_embeddings: np.ndarray | None = None,
) -> np.ndarray | list[np.ndarray]:
    """Quantize float embeddings to ``precision``; ``ranges`` (2, dim) or ``calibration_embeddings``
    fix the int8/uint8 buckets (else the embeddings' own min/max, with a warning under 100 rows)."""
    if isinstance(embeddings, Tensor):
        embeddings = _to_numpy(embeddings)
    elif isinstance(embeddings, list):
        if not embeddings:
            return []
        if isinstance(embeddings[0], Tensor):
            embeddings = [_to_numpy(e) for e in embeddings]
        if isinstance(embeddings[0], np.ndarray) and embeddings[0].ndim == 2:
            if precision.endswith("int8") and ranges is None:  # one calibration for every matrix
                data = np.concatenate(embeddings, axis=0) if calibration_embeddings is None else calibration_embeddings
                if len(data):
                    ranges = quantization_ranges(data, precision, calibration_embeddings)
            return [quantize_embeddings(m, precision, ranges, calibration_embeddings) for m in embeddings]
        embeddings = np.array(embeddings)
    if embeddings.dtype in (np.uint8, np.int8):
        raise ValueError("Embeddings to quantize must be float rather than int8 or uint8.")
    if embeddings.ndim == 2 and embeddings.shape[0] == 0:
        dim = embeddings.shape[1]
        if precision.endswith("int8"):
            return np.zeros((0, dim), dtype=np.int8 if precision == "int8" else np.uint8)
        if precision.endswith("binary"):
            return np.zeros((0, (dim + 7) // 8), dtype=np.int8 if precision == "binary" else np.uint8)
    if precision == "float32":
        return embeddings.astype(np.float32)
    if precision in ("int8", "uint8"):
        if ranges is None:
            ranges = quantization_ranges(embeddings, precision, calibration_embeddings)
        ranges = ranges.astype(np.float32, copy=False)
        starts = ranges[0, :]
        steps = (ranges[1, :] - starts) / 255
        steps = np.where(steps == 0, 1, steps)
        buckets = np.clip(np.floor((embeddings - starts) / steps), 0, 255)
        return buckets.astype(np.uint8) if precision == "uint8" else (buckets - 128).astype(np.int8)
    if precision == "binary":
        return (np.packbits(embeddings > 0, axis=-1) - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(embeddings > 0, axis=-1)
    raise ValueError(f"Precision {precision!r} is not supported")
