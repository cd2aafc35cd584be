"""Prometheus metrics of the server, in a registry of its own (several apps in one process stay apart)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_TEXTS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
_TOKENS = (16, 64, 256, 1024, 2048, 4096, 8192, 16384, 32768, 65536)


class ServingMetrics:
    """Requests by route and status, errors by code, latency, batch sizes, queue wait and tokens.

    ``sentforge_tokens_total`` over time gives tokens/s (``rate(sentforge_tokens_total[1m])``).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter("sentforge_requests", "HTTP requests by route and status code.",
                                ["route", "status"], registry=r)
        self.errors = Counter("sentforge_request_errors", "Requests answered with an error, by route and error code.",
                              ["route", "code"], registry=r)
        self.latency = Histogram("sentforge_request_seconds", "Time from request to response, by route.",
                                 ["route"], buckets=_SECONDS, registry=r)
        self.queue_wait = Histogram("sentforge_queue_wait_seconds", "Time a request waited for its batch to start.",
                                    buckets=_SECONDS, registry=r)
        self.batch_texts = Histogram("sentforge_batch_texts", "Texts per model batch.", buckets=_TEXTS, registry=r)
        self.batch_requests = Histogram("sentforge_batch_requests", "Requests packed into one model batch.",
                                        buckets=_TEXTS, registry=r)
        self.batch_tokens = Histogram("sentforge_batch_tokens", "Tokens per model batch.", buckets=_TOKENS, registry=r)
        self.batch_seconds = Histogram("sentforge_batch_seconds", "Model time per batch.", buckets=_SECONDS, registry=r)
        self.tokens = Counter("sentforge_tokens", "Tokens embedded (after truncation, special tokens included).",
                              registry=r)
        self.texts = Counter("sentforge_texts", "Texts embedded.", registry=r)
        self.cancelled = Counter("sentforge_cancelled_requests",
                                 "Requests dropped before their batch ran, because the client went away.", registry=r)
        self.queue_depth = Gauge("sentforge_queue_depth", "Requests waiting for the model.", registry=r)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
