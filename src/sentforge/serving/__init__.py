"""Serve a model over HTTP: OpenAI-compatible ``/v1/embeddings``, TEI-compatible ``/embed`` and
``/similarity``, ``/v1/search`` over an index, with dynamic batching, an API key and Prometheus metrics."""

from .app import app_for_model, create_app, load_app
from .config import ServeConfig
from .server import BackgroundServer, run_server

__all__ = ["BackgroundServer", "ServeConfig", "app_for_model", "create_app", "load_app", "run_server"]
