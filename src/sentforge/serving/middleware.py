"""Counts every HTTP request by route and status, and times it (a plain ASGI middleware)."""

from __future__ import annotations

import time
from typing import Any, Callable

from .metrics import ServingMetrics

OTHER_ROUTE = "other"


class RequestMetricsMiddleware:
    """Records ``sentforge_requests_total{route,status}`` and ``sentforge_request_seconds{route}``.

    Unknown paths share the route label ``other``, so scanners cannot grow the label set.
    """

    def __init__(self, app: Any, metrics: ServingMetrics, routes: Callable[[], set[str]]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = route_label(scope.get("path", ""), self.routes())
        status = {"code": 500}
        started = time.perf_counter()

        async def send_with_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.requests.labels(route=route, status=str(status["code"])).inc()
            self.metrics.latency.labels(route=route).observe(time.perf_counter() - started)


def route_label(path: str, routes: set[str]) -> str:
    """The metrics label of a path: itself when it is a route of the app, else ``other``."""
    return path if path in routes else OTHER_ROUTE
