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
            "precision": state.config.precision,
            "backend": state.config.backend + (f" ({state.config.onnx_file})" if state.config.onnx_file else ""),
            "max_batch_tokens": state.config.max_batch_tokens,
            "truncate": state.config.truncate,
            "index": None if index is None else {"count": len(index), "search": "exact" if index.exact else "hnsw",
                                                 "precision": index.manifest.precision},
            "reranker": None if state.reranker is None else state.reranker.model_name,
            "uptime_s": round(time.time() - state.started_at, 1),
        }
        return json_response(payload, status=200 if ready else 503)

    @router.get("/metrics")
    async def metrics() -> Response:
        body, content_type = state.metrics.render()
        return Response(body, media_type=content_type)

    return router
