"""The FastAPI application: routes, API key, error shape, metrics, and the model worker's lifetime."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from starlette.responses import Response

from ..errors import SentforgeError

from .auth import api_key_dependency
from .batching import ServerStopping
from .config import ServeConfig
from .disconnect import ClientDisconnected
from .errors import ApiError, error_response, install_error_handlers
from .metrics import ServingMetrics
from .middleware import RequestMetricsMiddleware, route_label
from .reranking import RerankService
from .routes_embeddings import embeddings_router
from .routes_ops import ops_router
from .routes_search import search_router
from .service import EmbeddingService
from .state import ServerState

CLIENT_CLOSED_STATUS = 499
"""Recorded for requests whose client disconnected before the answer (nginx's convention)."""


def create_app(state: ServerState) -> FastAPI:
    """An app serving ``state``'s model; the model worker starts and stops with the app's lifespan."""

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        state.service.start()
        if state.reranker is not None:
            state.reranker.start()
        try:
            yield
        finally:
            state.service.stop()
            if state.reranker is not None:
                state.reranker.stop()

    app = FastAPI(title="sentforge", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sentforge = state
    protected = [Depends(api_key_dependency(state.config.api_key))]
    routers = [ops_router(state), embeddings_router(state, protected), search_router(state, protected)]
    for router in routers:
        app.include_router(router)
    paths = {route.path for router in routers for route in router.routes if hasattr(route, "path")}

    def count_error(request: Request, error: ApiError) -> None:
        state.metrics.errors.labels(route=route_label(request.url.path, paths), code=error.code or "none").inc()

    install_error_handlers(app, on_error=count_error)

    @app.exception_handler(ClientDisconnected)
    async def _client_gone(request: Request, _: ClientDisconnected) -> Response:
        return Response(status_code=CLIENT_CLOSED_STATUS)

    @app.exception_handler(ServerStopping)
    async def _stopping(request: Request, error: ServerStopping) -> Response:
        unavailable = ApiError(503, f"{error} Retry in a moment.", code="server_stopping", error_type="server_error")
        count_error(request, unavailable)
        return error_response(unavailable)

    app.add_middleware(RequestMetricsMiddleware, metrics=state.metrics, routes=lambda: paths)
    return app


def app_for_model(model: Any, model_name: str, config: ServeConfig | None = None, index: Any = None,
                  model_folder: str | None = None, reranker: Any = None, reranker_name: str | None = None) -> FastAPI:
    """An app for a model already in memory (tests, notebooks); ``model_folder`` is where it was loaded from.

    ``reranker``: a loaded one-label CrossEncoder that reorders ``/v1/search`` hits (needs ``index``).
    """
    config = config or ServeConfig()
    if reranker is not None and index is None:
        raise SentforgeError("A reranker reorders /v1/search hits, so it needs an index: pass --index DIR "
                             "(a folder built by `sentforge index`) with --reranker.")
    metrics = ServingMetrics()
    service = EmbeddingService(model, model_name, config, metrics, model_folder=model_folder)
    reranking = None if reranker is None else RerankService(
        reranker, reranker_name or str(getattr(reranker, "base_model_id", None) or "reranker"), config.batch_size)
    return create_app(ServerState(service, config, metrics, index, reranking))


def load_app(model_name: str, config: ServeConfig, index_dir: str | None = None, reranker: Any = None,
             reranker_name: str | None = None) -> FastAPI:
    """Load a model by name or folder (in ``config.precision``) and, optionally, an index built with it
    and a loaded CrossEncoder ``reranker`` for its search route."""
    from ..index.encoding import with_precision
    from ..index.model_identity import load_model_with_identity

    options = {}
    if config.backend == "onnx":
        options = {"backend": "onnx", "model_kwargs": {"file_name": config.onnx_file} if config.onnx_file else None}
    model, identity = load_model_with_identity(model_name, **options)
    model = with_precision(model, config.precision)
    index = None
    if index_dir is not None:
        from ..index import VectorIndex

        index = VectorIndex.load(index_dir, model=model, identity=identity)
    return app_for_model(model, model_name, config, index=index, model_folder=identity.path, reranker=reranker,
                         reranker_name=reranker_name)
