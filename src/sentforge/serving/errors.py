"""Every error the server returns, in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

A bad request is a 4xx with a message that says what to change; only a bug in the server is a 500.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

logger = logging.getLogger("sentforge.serving")

_STATUS_TYPES = {429: "rate_limit_error"}
"""OpenAI answers every other 4xx (401 and 404 included) with ``invalid_request_error``, 5xx with ``server_error``."""


class ApiError(Exception):
    """A request the server refuses: HTTP status, message, and OpenAI's ``param`` and ``code``."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 error_type: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        default_type = "invalid_request_error" if status < 500 else "server_error"
        self.error_type = error_type or _STATUS_TYPES.get(status, default_type)
        self.headers = headers or {}


def bad_request(message: str, param: str | None = None, code: str = "invalid_value") -> ApiError:
    """A 400 ``invalid_request_error``."""
    return ApiError(400, message, param=param, code=code)


def error_body(message: str, error_type: str, param: str | None = None, code: str | None = None) -> dict:
    """OpenAI's error object."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(error: ApiError) -> Response:
    body = error_body(error.message, error.error_type, error.param, error.code)
    return Response(json.dumps(body), status_code=error.status, media_type="application/json", headers=error.headers)


def install_error_handlers(app: FastAPI, on_error=None) -> None:
    """Route every exception to a JSON error in OpenAI's shape; ``on_error(request, error)`` counts it."""

    def reply(request: Request, error: ApiError) -> Response:
        if on_error is not None:
            on_error(request, error)
        return error_response(error)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> Response:
        return reply(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        return reply(request, _from_http_exception(request, error))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        return reply(request, bad_request(f"Invalid request: {error.errors()}", code="invalid_request"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        logger.exception("Unexpected error on %s %s", request.method, request.url.path)
        return reply(request, ApiError(500, "The server failed on this request; see its log.", code="internal_error",
                                       error_type="server_error"))


def _from_http_exception(request: Request, error: StarletteHTTPException) -> ApiError:
    route = f"{request.method} {request.url.path}"
    if error.status_code == 404:
        return ApiError(404, f"Invalid URL ({route}): no such route. Routes: POST /v1/embeddings (or /embeddings), "
                        "POST /embed (or / and /invocations), POST /similarity, POST /v1/search, GET /v1/models, "
                        "GET /health, GET /info, GET /metrics.",
                        code="unknown_route")
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow") or (error.headers or {}).get("allow")
        hint = f" Use {allowed}." if allowed else ""
        return ApiError(405, f"Method {request.method} is not allowed on {request.url.path}.{hint}",
                        code="method_not_allowed", headers=dict(error.headers or {}))
    return ApiError(error.status_code, str(error.detail), code=None, headers=dict(error.headers or {}))
