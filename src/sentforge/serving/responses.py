"""Response bodies: vectors shaped as asked (Matryoshka truncation, normalisation), OpenAI's and TEI's JSON."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
from starlette.responses import Response


def shape_vectors(vectors: np.ndarray, normalize: bool, dimensions: int | None = None) -> np.ndarray:
    """Keep the first ``dimensions`` values (Matryoshka), then scale rows to length 1 when ``normalize``."""
    out = np.asarray(vectors, dtype=np.float32)
    if dimensions is not None:
        out = out[:, :dimensions]
    if normalize:
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out = out / np.maximum(norms, 1e-12)
    return out.astype(np.float32, copy=False)


def base64_vector(vector: np.ndarray) -> str:
    """Little-endian float32 bytes in base64, as OpenAI's ``encoding_format="base64"``."""
    return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")


def openai_embeddings(vectors: np.ndarray, model: str, tokens: int, encoding_format: str) -> dict[str, Any]:
    """OpenAI's embeddings list object."""
    encode = base64_vector if encoding_format == "base64" else (lambda v: v.tolist())
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON without FastAPI's per-value encoder pass (large float lists are the common payload)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(body, status_code=status, media_type="application/json", headers=headers)
