"""`sentforge serve`: an HTTP embedding server (OpenAI- and TEI-compatible) for one model."""

from typing import Optional

import typer

from . import console as out
from .console import user_errors
from ..errors import SentforgeError

PRECISIONS = ("float32", "int8", "bfloat16")


@user_errors
def serve(
    model: str = typer.Argument(..., help="Model folder or id."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port to listen on."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="SENTFORGE_API_KEY",
                                          help="Require 'Authorization: Bearer KEY' (or set SENTFORGE_API_KEY)."),
    index: Optional[str] = typer.Option(None, "--index", help="Index folder (from `sentforge index`) for /v1/search."),
    reranker: Optional[str] = typer.Option(
        None, "--reranker", metavar="MODEL", help="CrossEncoder that reorders /v1/search hits (needs --index)."),
    max_batch_tokens: int = typer.Option(16384, "--max-batch-tokens", min=1,
                                         help="Tokens packed into one model batch."),
    max_wait_ms: float = typer.Option(2.0, "--max-wait-ms", min=0.0, help="How long a batch waits for more requests."),
    max_inputs: int = typer.Option(2048, "--max-inputs", min=1, help="Most texts in one request."),
    truncate: bool = typer.Option(True, "--truncate/--no-truncate",
                                  help="Cut over-long texts to the model's max_seq_length (else answer 413)."),
    precision: str = typer.Option("float32", "--precision", help="Model weights: float32, int8 or bfloat16."),
    backend: str = typer.Option("torch", "--backend",
                                help="torch, or onnx (onnxruntime runs the encoder; exported on first use)."),
    onnx_file: Optional[str] = typer.Option(None, "--onnx-file",
                                            help="With --backend onnx: a graph in the model's onnx/ folder, "
                                                 "e.g. model_qint8_avx512_vnni.onnx (int8)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Texts per forward pass inside a batch."),
    max_body_mb: float = typer.Option(16.0, "--max-body-mb", min=0.001, help="Largest request body, in MiB."),
    threads: Optional[int] = typer.Option(
        None, "--threads", min=1, help="torch threads for the model (default: the CPU cores less one, at least 1)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn's log level: debug, info, warning, error."),
) -> None:
    """Serve MODEL over HTTP: POST /v1/embeddings, /embed, /similarity, /v1/search; GET /health, /metrics."""
    if precision not in PRECISIONS:
        raise SentforgeError(f"Unknown --precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")
    if reranker is not None and index is None:
        raise SentforgeError("--reranker reorders /v1/search hits, so it needs an index: add --index DIR "
                             "(a folder built by `sentforge index`).")
    _check_serving_installed()
    from .search import load_reranker
    from ..serving import ServeConfig, load_app, run_server

    config = ServeConfig(max_batch_tokens=max_batch_tokens, max_wait_ms=max_wait_ms, max_inputs=max_inputs,
                         truncate=truncate, api_key=api_key, max_body_bytes=int(max_body_mb * 1024 * 1024),
                         batch_size=batch_size, precision=precision, backend=backend, onnx_file=onnx_file)
    out.quiet_libraries()
    reranking = load_reranker(reranker) if reranker is not None else None
    torch_threads = _set_torch_threads(threads)
    app = load_app(model, config, index_dir=index, reranker=reranking, reranker_name=reranker)
    key_note = "API key required" if api_key else "no API key"
    index_note = (f", index {index}" if index else "") + (f", reranker {reranker}" if reranker else "")
    engine = precision if backend == "torch" else f"onnx{f' {onnx_file}' if onnx_file else ''}"
    out.say(f"Serving {model} ({engine}, {torch_threads} torch thread(s){index_note}, {key_note}) "
            f"on http://{host}:{port} - Ctrl-C stops it.")
    run_server(app, host=host, port=port, log_level=log_level)


def _set_torch_threads(requested: int | None) -> int:
    """The model gets all cores but one: the HTTP event loop needs a core of its own, or torch's
    threads and the loop take turns on the same cores and every batch waits for a descheduled thread."""
    import os

    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    threads = requested or max(1, cores - 1)
    torch.set_num_threads(threads)
    return threads


def _check_serving_installed() -> None:
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn", "prometheus_client") if importlib.util.find_spec(name) is None]
    if missing:
        raise SentforgeError(f"Serving needs {', '.join(missing)}. Install them with: pip install 'sentforge[serve]'")
