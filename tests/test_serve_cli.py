"""`sentforge serve`: starts, answers, stops on Ctrl-C; bad options end with one `Error:` line (exit 2)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from tiny_models import build_tiny_bert  # noqa: E402

from sentforge.cli import app  # noqa: E402
from sentforge.index import VectorIndex  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, load_app  # noqa: E402


@pytest.fixture(autouse=True)
def restore_library_logging():
    import transformers

    verbosity = transformers.logging.get_verbosity()
    yield
    transformers.logging.set_verbosity(verbosity)
    transformers.utils.logging.enable_progress_bar()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_command_answers_and_stops_on_ctrl_c(tiny_bert_dir):
    port = free_port()
    env = {**os.environ, "SENTFORGE_API_KEY": "k", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "sentforge.cli", "serve", tiny_bert_dir, "--port", str(port),
                                "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                               text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, process.stdout.read()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/v1/embeddings"
        assert httpx.post(url, json={"input": "the cat"}).status_code == 401  # key from SENTFORGE_API_KEY
        reply = httpx.post(url, json={"input": "the cat"}, headers={"Authorization": "Bearer k"})
        assert reply.status_code == 200 and len(reply.json()["data"][0]["embedding"]) == 32
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert f"on http://127.0.0.1:{port}" in output and "Traceback" not in output


def test_serve_refuses_bad_options_with_exit_2(tiny_bert_dir, tmp_path):
    index_dir = tmp_path / "index"
    VectorIndex.build(build_tiny_bert(str(tmp_path / "other"), seed=1), ["a"], ["the cat"]).save(index_dir)
    cases = [
        (["serve", tiny_bert_dir, "--precision", "fp8"], "Unknown --precision 'fp8'"),
        (["serve", tiny_bert_dir, "--index", str(index_dir)], "built with other weights"),
        (["serve", tiny_bert_dir, "--index", str(tmp_path / "missing")], "No index folder"),
        (["serve", str(tmp_path / "no-model")], "Could not find the model"),
    ]
    for args, words in cases:
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert words in " ".join(result.output.split()) and "Traceback" not in result.output


@pytest.mark.parametrize("precision", ["int8", "bfloat16"])
def test_reduced_precision_serving(tiny_bert_dir, precision):
    with BackgroundServer(load_app(tiny_bert_dir, ServeConfig(precision=precision))) as server:
        health = httpx.get(f"{server.url}/health").json()
        reply = httpx.post(f"{server.url}/embed", json={"inputs": ["the cat sat", "a dog ran"]})
    assert health["precision"] == precision
    assert reply.status_code == 200 and len(reply.json()) == 2
