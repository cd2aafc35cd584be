"""Operations routes: ``GET /health`` and ``GET /metrics`` (Prometheus); no API key needed."""

from __future__ import annotations

import time

from fastapi import APIRouter
from starlette.responses import Response

from .responses import json_response
from .state import ServerState


def ops_router(state: ServerState) -> APIRouter:
    router = APIRouter()

    @router.get("/health")
    async def health() -> Response:
        """200 with the model's facts while the model worker runs; 503 otherwise."""
        service, index = state.service, state.index
        ready = service.batcher.running
        payload = {
            "status": "ok" if ready else "unavailable",
            "model": state.model_name,
            "dimension": service.dimension,
            "max_seq_length": service.max_seq_length,
            "precision": state.config.weights_precision,
            "backend": state.config.backend + (f" ({state.config.onnx_file})" if state.config.onnx_file else ""),
            "max_batch_tokens": state.config.max_batch_tokens,
            "truncate": state.config.truncate,
            "index": None if index is None else {"count": len(index), "search": "exact" if index.exact else "hnsw",
                                                 "precision": index.manifest.precision},
            "reranker": None if state.reranker is None else state.reranker.model_name,
            "uptime_s": round(time.time() - state.started_at, 1),
        }
        return json_response(payload, status=200 if ready else 503)

    @router.get("/info")
    async def info() -> Response:
        """text-embeddings-inference's model facts, for clients that read them."""
        service = state.service
        return json_response({
            "model_id": state.model_name,
            "model_dtype": state.config.weights_precision,
            "model_type": {"embedding": {"pooling": "model's own"}},
            "max_concurrent_requests": None,
            "max_input_length": service.max_seq_length,
            "max_batch_tokens": state.config.max_batch_tokens,
            "max_client_batch_size": state.config.max_inputs,
            "auto_truncate": state.config.truncate,
            "version": _version(),
        })

    @router.get("/metrics")
    async def metrics() -> Response:
        body, content_type = state.metrics.render()
        return Response(body, media_type=content_type)

    return router


def _version() -> str:
    from .. import __version__

    return f"sentforge {__version__}"
