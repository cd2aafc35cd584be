"""Embedding texts for an index: unit-length float32 vectors, in chunks so a progress bar can follow."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from ..errors import SentforgeError

WEIGHT_PRECISIONS = ("float32", "int8", "bfloat16")
ENCODE_CHUNK = 1024
"""Texts per ``encode`` call: small enough for a lively progress bar, big enough to sort by length."""


def weight_precision(model: torch.nn.Module) -> str:
    """The precision a model encodes in: int8 (Int8Linear layers), bfloat16 (bf16 weights) or float32."""
    if any(type(module).__name__ == "Int8Linear" for module in model.modules()):
        return "int8"
    if any(parameter.dtype == torch.bfloat16 for parameter in model.parameters()):
        return "bfloat16"
    return "float32"


def with_precision(model: Any, precision: str) -> Any:
    """``model`` itself for float32, else its int8 / bfloat16 copy made in place (inference only)."""
    if precision not in WEIGHT_PRECISIONS:
        raise SentforgeError(f"Unknown precision {precision!r}. Use one of: {', '.join(WEIGHT_PRECISIONS)}.")
    if precision == "float32" or weight_precision(model) == precision:
        return model
    from ..backends import quantize_model

    return quantize_model(model, precision, inplace=True)


def embed_texts(
    model: Any,
    texts: list[str],
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Unit-length float32 embeddings of ``texts`` (one row each); ``progress(n)`` after each chunk."""
    parts = []
    for start in range(0, len(texts), ENCODE_CHUNK):
        chunk = texts[start : start + ENCODE_CHUNK]
        parts.append(np.asarray(model.encode(chunk, batch_size=batch_size, normalize_embeddings=True,
                                             convert_to_numpy=True, show_progress_bar=False), dtype=np.float32))
        if progress is not None:
            progress(len(chunk))
    if not parts:
        return np.zeros((0, model.get_sentence_embedding_dimension() or 0), dtype=np.float32)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
