"""Serving: `sentforge serve` under concurrent HTTP clients, against in-process `model.encode` and infinity-emb.

Each server runs in its own process on loopback with all-MiniLM-L6-v2 (float32, CPU); the clients
run in this process (httpx, asyncio). Throughput test: ``--clients`` (32) clients each post one
sentence per request to ``/v1/embeddings`` until the STS-B test sentences run out; sentences/s and
p50/p99 request latency. Latency test: ``--short-clients`` (8) clients post one short sentence
each, over and over; p50/p99. The in-process references encode the same sentences with
``model.encode``: one sentence per call (a server without batching), and batches of 32 (the
ceiling). Contenders alternate over ``--rounds`` rounds; medians. infinity-emb is measured when
``--infinity BIN`` (or ``$INFINITY_EMB_BIN``) names its ``infinity_emb`` executable (its own venv:
its pins clash with sentforge's); otherwise its row says why it is missing.

    .venv/bin/python benchmarks/bench_serve.py [--limit 1024] [--rounds 3] [--infinity /tmp/infvenv/bin/infinity_emb]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

import common

SHORT_SENTENCE = "The weather is lovely today."


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=1024, help="STS-B test sentences per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per contender (medians)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients in the throughput test")
    parser.add_argument("--short-clients", type=int, default=8, help="concurrent clients in the latency test")
    parser.add_argument("--short-requests", type=int, default=400, help="requests per latency run")
    parser.add_argument("--infinity", default=os.environ.get("INFINITY_EMB_BIN"),
                        help="path of infinity-emb's `infinity_emb` executable (its own venv)")
    parser.add_argument("--max-wait-ms", type=float, default=2.0, help="sentforge serve --max-wait-ms")
    common.add_common_args(parser)
    return parser.parse_args()


# -- servers ---------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server_process(command: list[str], health_url: str, env: dict[str, str], timeout: float = 300.0) -> Iterator[None]:
    """Start a server, wait for its health route, stop it afterwards."""
    import httpx

    log = tempfile.NamedTemporaryFile("w", prefix=f"bench_serve_{os.path.basename(command[0])}_", suffix=".log",
                                      delete=False)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=common.REPO_ROOT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}; see {log.name}")
            try:
                if httpx.get(health_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not become healthy in {timeout:.0f} s; see {log.name}")
            time.sleep(0.5)
        yield
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def server_env() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "DO_NOT_TRACK": "1",
           "INFINITY_ANONYMOUS_USAGE_STATS": "0"}
    if os.environ.get(common.THREADS_ENV):
        env["OMP_NUM_THREADS"] = os.environ[common.THREADS_ENV]
    return env


def sentforge_command(port: int, max_wait_ms: float) -> list[str]:
    return [sys.executable, "-m", "sentforge.cli", "serve", common.minilm_path(), "--port", str(port),
            "--log-level", "warning", "--max-wait-ms", str(max_wait_ms)]


def infinity_command(binary: str, port: int) -> list[str]:
    return [binary, "v2", "--model-id", common.minilm_path(), "--engine", "torch", "--device", "cpu",
            "--port", str(port), "--no-bettertransformer"]


# -- load ------------------------------------------------------------------------------------------
async def _drive(url: str, model: str, texts: list[str], clients: int) -> tuple[float, list[float], dict[str, Any]]:
    """``clients`` workers post one text per request until ``texts`` run out: (wall s, latencies s, vectors)."""
    import httpx

    pending = iter(enumerate(texts))
    latencies: list[float] = []
    vectors: dict[int, list[float]] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        for index, text in pending:
            started = time.perf_counter()
            reply = await client.post(url, json={"model": model, "input": [text], "encoding_format": "float"})
            latencies.append(time.perf_counter() - started)
            reply.raise_for_status()
            vectors[index] = reply.json()["data"][0]["embedding"]

    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        wall = time.perf_counter() - started
    return wall, latencies, vectors


def drive(url: str, model: str, texts: list[str], clients: int) -> tuple[float, list[float], dict[int, Any]]:
    return asyncio.run(_drive(url, model, texts, clients))


def percentile_ms(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000.0, q))


# -- main ------------------------------------------------------------------------------------------
def main() -> int:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    args = parse_args()
    common.setup(args)
    texts = common.stsb_test_sentences()[: args.limit]
    short = [SHORT_SENTENCE] * args.short_requests
    model = common.load_model("sentforge")
    reference = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    servers: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    sentforge_port = free_port()
    servers["sentforge serve"] = {"command": sentforge_command(sentforge_port, args.max_wait_ms),
                                  "base": f"http://127.0.0.1:{sentforge_port}", "route": "/v1/embeddings"}
    infinity_reason = infinity_status(args.infinity)
    if infinity_reason is None:
        port = free_port()
        servers["infinity-emb"] = {"command": infinity_command(args.infinity, port),
                                   "base": f"http://127.0.0.1:{port}", "route": "/embeddings"}
    else:
        notes.append(f"infinity-emb not measured: {infinity_reason}")

    results: dict[str, dict[str, list[float]]] = {}
    diffs: dict[str, float] = {}
    with _all_running(servers) as started:
        for name in list(servers):
            if name not in started:
                notes.append(f"{name} not measured: {started.get(name + ':error', 'did not start')}")
                del servers[name]
        names = ["encode, 1 sentence per call", "encode, batch 32", *servers]
        for name in servers:  # warm-up
            drive(servers[name]["base"] + servers[name]["route"], common.minilm_path(), texts[:64], args.clients)
        for round_index in range(args.rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                row = results.setdefault(name, {"rate": [], "p50": [], "p99": [], "short_p50": [], "short_p99": []})
                if name.startswith("encode"):
                    rate, p50, p99 = in_process(model, texts, 1 if "1 sentence" in name else 32)
                    row["rate"].append(rate)
                    row["p50"].append(p50)
                    row["p99"].append(p99)
                    continue
                url = servers[name]["base"] + servers[name]["route"]
                wall, latencies, vectors = drive(url, common.minilm_path(), texts, args.clients)
                row["rate"].append(len(texts) / wall)
                row["p50"].append(percentile_ms(latencies, 50))
                row["p99"].append(percentile_ms(latencies, 99))
                got = np.array([vectors[i] for i in range(len(texts))], dtype=np.float32)
                diffs[name] = float(np.abs(got - reference).max())
                _, short_latencies, _ = drive(url, common.minilm_path(), short, args.short_clients)
                row["short_p50"].append(percentile_ms(short_latencies, 50))
                row["short_p99"].append(percentile_ms(short_latencies, 99))

    sequential = common.median(results["encode, 1 sentence per call"]["rate"])
    rows = []
    for name, row in results.items():
        rate = common.median(row["rate"])
        short_cells = ([f"{common.median(row['short_p50']):.1f}", f"{common.median(row['short_p99']):.1f}"]
                       if row["short_p50"] else ["-", "-"])
        clients = "in-process" if name.startswith("encode") else f"{args.clients} clients"
        rows.append([name, clients, f"{rate:.1f}", f"{rate / sequential:.2f}x", f"{common.median(row['p50']):.1f}",
                     f"{common.median(row['p99']):.1f}", *short_cells,
                     f"{diffs[name]:.1e}" if name in diffs else "-"])
    headers = ["contender", "load", "sentences/s (median)", "vs encode 1 per call", "p50 ms", "p99 ms",
               f"{args.short_clients} clients short p50 ms", f"{args.short_clients} clients short p99 ms",
               "max abs diff to encode"]
    notes = [
        f"{len(texts)} STS-B test sentences per throughput run, one sentence per request to the OpenAI-style route; "
        f"{args.rounds} alternating rounds, medians; latency = request sent to response parsed, client side",
        f"latency test: {args.short_clients} clients, {args.short_requests} requests of {SHORT_SENTENCE!r}",
        "in-process rows: p50/p99 are per encode call (1 sentence, or 32); no HTTP",
        f"sentforge serve: float32, --max-batch-tokens 16384, --max-wait-ms {args.max_wait_ms:g}, torch threads "
        f"{_serve_threads()} (its default: the cores less one; the event loop keeps a core); each server in its own "
        f"process, the clients (httpx, asyncio) in the benchmark process on the same {os.cpu_count()} cores",
        *notes,
    ]
    if "infinity-emb" in results:
        notes.append(f"infinity-emb {_infinity_version(args.infinity)} (torch engine, CPU, its defaults), own venv")
    common.report("Serving under concurrent clients (bench_serve)", common.markdown_table(headers, rows), notes,
                  args.no_record)
    return 0


def _serve_threads() -> str:
    if os.environ.get(common.THREADS_ENV):
        return os.environ[common.THREADS_ENV]
    return str(max(1, len(os.sched_getaffinity(0)) - 1) if hasattr(os, "sched_getaffinity") else "default")


def in_process(model: Any, texts: list[str], batch_size: int) -> tuple[float, float, float]:
    """Sentences/s and p50/p99 ms per call of ``model.encode`` over ``texts`` in calls of ``batch_size``."""
    calls = []
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        began = time.perf_counter()
        model.encode(texts[start : start + batch_size], normalize_embeddings=True, show_progress_bar=False)
        calls.append(time.perf_counter() - began)
    wall = time.perf_counter() - started
    return len(texts) / wall, percentile_ms(calls, 50), percentile_ms(calls, 99)


@contextmanager
def _all_running(servers: dict[str, dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Start every server (one after the other); yields which ones came up (errors under 'NAME:error')."""
    from contextlib import ExitStack

    started: dict[str, Any] = {}
    with ExitStack() as stack:
        for name, server in servers.items():
            try:
                stack.enter_context(server_process(server["command"], server["base"] + "/health", server_env()))
                started[name] = True
            except (RuntimeError, OSError) as err:
                started[name + ":error"] = str(err)
        yield started


def infinity_status(binary: str | None) -> str | None:
    """None when infinity-emb can be run, else why not."""
    if not binary:
        return ("no --infinity BIN given. Install it in its own venv: python3 -m venv /tmp/infvenv && "
                "/tmp/infvenv/bin/pip install torch==2.13.0 'infinity-emb[server,torch]'")
    if not (os.path.isfile(binary) or shutil.which(binary)):
        return f"{binary} not found"
    return None


def _infinity_version(binary: str) -> str:
    python = os.path.join(os.path.dirname(binary), "python")
    try:
        done = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('infinity_emb'))"],
                              capture_output=True, text=True, timeout=60)
        return done.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
