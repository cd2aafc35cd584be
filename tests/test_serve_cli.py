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
        (["serve", tiny_bert_dir, "--backend", "onnx", "--precision", "int8"], "--onnx-file model_qint8"),
        (["serve", tiny_bert_dir, "--onnx-file", "model.onnx"], "add --backend onnx"),
        (["serve", tiny_bert_dir, "--backend", "tensorrt"], "backend must be torch or onnx"),
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


def test_onnx_serving_gives_the_vectors_of_encode(tiny_bert_dir, tmp_path):
    """--backend onnx: onnxruntime runs the encoder (exported into the model's onnx/ folder on first use)."""
    pytest.importorskip("onnxruntime")
    import shutil

    import numpy as np

    from sentforge import SentenceTransformer

    folder = str(tmp_path / "model")
    shutil.copytree(tiny_bert_dir, folder)
    texts = ["the cat sat", "a dog ran in the park", "money"]
    expected = SentenceTransformer(folder, device="cpu").encode(texts, normalize_embeddings=True)
    with BackgroundServer(load_app(folder, ServeConfig(backend="onnx"))) as server:
        health = httpx.get(f"{server.url}/health").json()
        reply = httpx.post(f"{server.url}/v1/embeddings", json={"input": texts}).json()
    got = np.array([row["embedding"] for row in reply["data"]], dtype=np.float32)
    assert health["backend"] == "onnx" and os.path.isfile(os.path.join(folder, "onnx", "model.onnx"))
    assert health["precision"] == "float32"
    assert ServeConfig(backend="onnx", onnx_file="model_qint8_avx512_vnni.onnx").weights_precision == "int8"
    assert np.abs(got - expected).max() <= 1e-5  # onnxruntime's kernels round differently from torch's
