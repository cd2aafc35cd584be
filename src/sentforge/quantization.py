"""Embedding precisions: float32, int8, uint8, binary, ubinary (as sentence-transformers)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from .errors import SentforgeError

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")


def quantize_embeddings(
    embeddings: Tensor | np.ndarray, precision: str, ranges: np.ndarray | None = None
) -> np.ndarray:
    """Quantize float embeddings; int8/uint8 use per-dimension min/max (from ``ranges`` or the batch)."""
    if isinstance(embeddings, Tensor):
        embeddings = embeddings.detach().float().cpu().numpy()
    embeddings = np.asarray(embeddings)
    if precision == "float32":
        return embeddings.astype(np.float32)
    if precision in ("int8", "uint8"):
        if ranges is None:
            if embeddings.ndim == 1 or embeddings.shape[0] == 1:
                raise SentforgeError(
                    f"Cannot compute {precision} quantization ranges from a single embedding: every value would "
                    "be 0. Encode more texts at once, or quantize with ranges from a representative set "
                    "(sentforge.util.quantize_embeddings(embeddings, precision, ranges=...)).")
            if embeddings.shape[0] < 100:
                import warnings

                warnings.warn(
                    f"Computing {precision} quantization ranges from only {embeddings.shape[0]} embeddings; "
                    "pass calibration ranges for stable results."
                )
            ranges = np.vstack((embeddings.min(axis=0), embeddings.max(axis=0)))
        starts = ranges[0, :]
        steps = (ranges[1, :] - ranges[0, :]) / 255
        steps = np.where(steps > 0, steps, 1.0)  # a dimension with one value everywhere maps to its start
        if precision == "uint8":
            return ((embeddings - starts) / steps).astype(np.uint8)
        return ((embeddings - starts) / steps - 128).astype(np.int8)
    if precision == "binary":
        return (np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1) - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1)
    raise SentforgeError(f"Unknown precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")


def as_tensor(array: np.ndarray) -> Tensor:
    return torch.from_numpy(np.ascontiguousarray(array))
