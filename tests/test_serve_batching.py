"""Dynamic batching: packing by token budget, one worker thread, cancelled jobs dropped unrun."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, app_for_model  # noqa: E402
from sentforge.serving.batching import DynamicBatcher, ServerStopping  # noqa: E402
from sentforge.serving.metrics import ServingMetrics  # noqa: E402


class GatedEncoder:
    """Records each batch and its thread; a batch holding "block" waits until ``release``."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.blocked = threading.Event()

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        self.threads.add(threading.current_thread().name)
        if "block" in texts:
            self.blocked.set()
            self.gate.wait(10)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_jobs_queued_while_busy_are_packed_by_token_budget():
    async def scenario():
        encoder = GatedEncoder()
        metrics = ServingMetrics()
        batcher = DynamicBatcher(encoder, max_batch_tokens=30, max_wait_ms=1, metrics=metrics)
        batcher.start()
        try:
            first = batcher.submit(["block"], tokens=5)
            await asyncio.to_thread(encoder.blocked.wait, 10)
            futures = [batcher.submit([f"text {i}", f"more {i}"], tokens=10) for i in range(7)]
            encoder.gate.set()
            results = await asyncio.gather(first, *futures)
        finally:
            batcher.stop()
        return encoder, results

    encoder, results = asyncio.run(scenario())
    assert encoder.batches[0] == ["block"]
    assert [len(batch) for batch in encoder.batches[1:]] == [6, 6, 2]  # 3 jobs of 10 tokens fit in 30
    assert encoder.threads == {"sentforge-model-worker"}
    for i, vectors in enumerate(results[1:]):  # each job gets its own rows back
        assert vectors[:, 0].tolist() == [len(f"text {i}"), len(f"more {i}")]


def test_a_job_over_the_budget_runs_alone():
    async def scenario():
        encoder = GatedEncoder()
        batcher = DynamicBatcher(encoder, max_batch_tokens=10, max_wait_ms=20)
        batcher.start()
        try:
            return encoder, await asyncio.gather(batcher.submit(["a"] * 3, tokens=50), batcher.submit(["b"], tokens=2))
        finally:
            batcher.stop()

    encoder, (big, small) = asyncio.run(scenario())
    assert encoder.batches == [["a", "a", "a"], ["b"]]
    assert big.shape == (3, 2) and small.shape == (1, 2)


def test_cancelled_job_is_dropped_before_its_batch_runs():
    async def scenario():
        encoder = GatedEncoder()
        metrics = ServingMetrics()
        batcher = DynamicBatcher(encoder, max_batch_tokens=1000, max_wait_ms=1, metrics=metrics)
        batcher.start()
        try:
            first = batcher.submit(["block"], tokens=1)
            await asyncio.to_thread(encoder.blocked.wait, 10)
            dropped = batcher.submit(["client went away"], tokens=1)
            kept = batcher.submit(["still wanted"], tokens=1)
            dropped.cancel()
            encoder.gate.set()
            await asyncio.gather(first, kept)
        finally:
            batcher.stop()
        return encoder, metrics

    encoder, metrics = asyncio.run(scenario())
    assert encoder.batches == [["block"], ["still wanted"]]
    assert metrics.cancelled._value.get() == 1


def test_encode_errors_reach_every_waiting_request_and_the_worker_survives():
    calls = []

    def flaky(texts):
        calls.append(texts)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return np.zeros((len(texts), 2), dtype=np.float32)

    async def scenario():
        batcher = DynamicBatcher(flaky, max_wait_ms=0)
        batcher.start()
        try:
            with pytest.raises(RuntimeError, match="boom"):
                await batcher.submit(["x"], tokens=1)
            return await batcher.submit(["y"], tokens=1)
        finally:
            batcher.stop()

    assert asyncio.run(scenario()).shape == (1, 2)


def test_stop_runs_queued_jobs_then_refuses_new_ones():
    async def scenario():
        encoder = GatedEncoder()
        batcher = DynamicBatcher(encoder, max_batch_tokens=1, max_wait_ms=0)
        batcher.start()
        first = batcher.submit(["block"], tokens=1)
        await asyncio.to_thread(encoder.blocked.wait, 10)
        queued = batcher.submit(["never"], tokens=1)
        stopper = asyncio.get_running_loop().run_in_executor(None, batcher.stop)
        await asyncio.sleep(0.05)
        encoder.gate.set()
        await first
        await stopper
        assert (await queued).shape == (1, 2)
        with pytest.raises(ServerStopping):
            await batcher.submit(["too late"], tokens=1)

    asyncio.run(scenario())


@pytest.fixture(scope="module")
def tiny_model(tiny_bert_dir):
    return SentenceTransformer(tiny_bert_dir, device="cpu")


def test_concurrent_http_requests_share_batches_and_match_encode(tiny_bert_dir, tiny_model):
    sentences = [f"the {w} sat on the mat near the {v}"
                 for w in ("cat", "dog", "fish", "tree") for v in ("river", "bank", "car", "park")]
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny", ServeConfig(max_wait_ms=20),
                        model_folder=tiny_bert_dir)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        def one(text):
            reply = http.post("/embed", json={"inputs": text})
            assert reply.status_code == 200, reply.text
            return reply.json()[0]

        with ThreadPoolExecutor(8) as pool:
            got = np.array(list(pool.map(one, sentences)), dtype=np.float32)
        metrics = http.get("/metrics").text
    assert np.abs(got - tiny_model.encode(sentences, normalize_embeddings=True)).max() <= 1e-6
    count = _metric(metrics, "sentforge_batch_requests_count")
    total = _metric(metrics, "sentforge_batch_requests_sum")
    assert total == len(sentences) and count < len(sentences)  # some requests shared a batch


def _metric(text: str, name: str) -> float:
    return next(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def test_client_disconnect_drops_its_queued_work(tiny_bert_dir):
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny", ServeConfig(max_wait_ms=0),
                        model_folder=tiny_bert_dir)
    batcher = app.state.sentforge.service.batcher
    real_encode = batcher.encode_batch
    seen: list[list[str]] = []
    gate, blocked = threading.Event(), threading.Event()

    def gated(texts):
        seen.append(list(texts))
        if "block" in texts:
            blocked.set()
            gate.wait(10)
        return real_encode(texts)

    batcher.encode_batch = gated
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        busy = ThreadPoolExecutor(1).submit(http.post, "/embed", json={"inputs": "block"})
        assert blocked.wait(10)
        body = b'{"inputs": "gone before its turn"}'
        raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        raw.sendall(b"POST /embed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        wait_for(lambda: _metric(http.get("/metrics").text, "sentforge_queue_depth") == 1)
        raw.close()
        wait_for(lambda: 'status="499"' in http.get("/metrics").text)
        gate.set()
        assert busy.result(10).status_code == 200
        assert http.post("/embed", json={"inputs": "after"}).status_code == 200
        metrics = http.get("/metrics").text
    assert ["gone before its turn"] not in seen and ["after"] in seen
    assert _metric(metrics, "sentforge_cancelled_requests_total") == 1
