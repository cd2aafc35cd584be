"""Dynamic batching: requests from many clients packed by a token budget into one model call.

One worker thread owns the model; the event loop only queues jobs and awaits asyncio futures that
the worker resolves (``loop.call_soon_threadsafe``), so torch never blocks request handling. A job
whose future was cancelled before its batch starts (its client went away) is dropped unrun.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .metrics import ServingMetrics

logger = logging.getLogger("sentforge.serving")

EncodeBatch = Callable[[list[str]], np.ndarray]


class ServerStopping(RuntimeError):
    """The server shut down before the job ran."""


@dataclass
class EmbedJob:
    """One request's texts, its token cost and the future its handler awaits."""

    texts: list[str]
    tokens: int
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    enqueued_at: float = field(default_factory=time.perf_counter)


_STOP = object()


class DynamicBatcher:
    """Packs queued jobs into batches of at most ``max_batch_tokens`` tokens and runs them in one thread.

    After the first job of a batch arrives, the worker waits up to ``max_wait_ms`` for more jobs
    (none if the budget is already full). A single job larger than the budget runs alone.
    ``encode(texts) -> (len(texts), dim) float32`` is called only from the worker thread.
    """

    def __init__(self, encode: EncodeBatch, max_batch_tokens: int = 16384, max_wait_ms: float = 2.0,
                 metrics: ServingMetrics | None = None) -> None:
        self.encode_batch = encode
        self.max_batch_tokens = max_batch_tokens
        self.max_wait_s = max_wait_ms / 1000.0
        self.metrics = metrics
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._carry: EmbedJob | None = None
        self._stopped = False

    # -- event-loop side -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        self._stopped = False
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sentforge-model-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Run the jobs already queued, then end the worker thread; later submissions fail."""
        self._stopped = True
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def submit(self, texts: list[str], tokens: int) -> asyncio.Future:
        """Queue texts; the returned future gets their ``(len(texts), dim)`` embeddings.

        Cancel the future to drop the job if its batch has not started yet.
        """
        loop = asyncio.get_running_loop()
        job = EmbedJob(list(texts), max(int(tokens), 1), loop.create_future(), loop)
        if self._stopped:
            job.future.set_exception(ServerStopping("The server is shutting down."))
            return job.future
        self._queue.put(job)
        self._depth(+1)
        return job.future

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- worker side -----------------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._carry if self._carry is not None else self._queue.get()
            self._carry = None
            if first is _STOP:
                break
            batch, stopping = self._fill(first)
            self._run_batch(batch)
        self._fail_queued()

    def _fill(self, first: EmbedJob) -> tuple[list[EmbedJob], bool]:
        """The jobs of one batch, starting with ``first``; whether a stop was requested meanwhile."""
        batch, tokens = [first], first.tokens
        deadline = time.perf_counter() + self.max_wait_s
        while tokens < self.max_batch_tokens:
            remaining = deadline - time.perf_counter()
            try:
                job = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if job is _STOP:
                return batch, True
            if tokens + job.tokens > self.max_batch_tokens:
                self._carry = job
                break
            batch.append(job)
            tokens += job.tokens
        return batch, False

    def _run_batch(self, batch: list[EmbedJob]) -> None:
        self._depth(-len(batch))
        live = [job for job in batch if not job.future.cancelled()]
        if self.metrics is not None and len(live) < len(batch):
            self.metrics.cancelled.inc(len(batch) - len(live))
        if not live:
            return
        started = time.perf_counter()
        texts = [text for job in live for text in job.texts]
        try:
            vectors = np.asarray(self.encode_batch(texts), dtype=np.float32)
        except Exception as err:  # noqa: BLE001 - handed to every waiting request, which reports it
            logger.exception("Encoding a batch of %d texts failed", len(texts))
            for job in live:
                _settle(job, error=err)
            return
        self._record(live, texts, started)
        offset = 0
        for job in live:
            _settle(job, result=vectors[offset : offset + len(job.texts)])
            offset += len(job.texts)

    def _record(self, live: list[EmbedJob], texts: list[str], started: float) -> None:
        if self.metrics is None:
            return
        m = self.metrics
        for job in live:
            m.queue_wait.observe(started - job.enqueued_at)
        tokens = sum(job.tokens for job in live)
        m.batch_seconds.observe(time.perf_counter() - started)
        m.batch_texts.observe(len(texts))
        m.batch_requests.observe(len(live))
        m.batch_tokens.observe(tokens)
        m.tokens.inc(tokens)
        m.texts.inc(len(texts))

    def _fail_queued(self) -> None:
        pending = [self._carry] if isinstance(self._carry, EmbedJob) else []
        self._carry = None
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(job, EmbedJob):
                pending.append(job)
        self._depth(-len(pending))
        for job in pending:
            _settle(job, error=ServerStopping("The server is shutting down."))

    def _depth(self, change: int) -> None:
        if self.metrics is not None and change:
            self.metrics.queue_depth.inc(change)


def _settle(job: EmbedJob, result: Any = None, error: BaseException | None = None) -> None:
    """Resolve a job's future on its event loop (no-op if it was cancelled or the loop is gone)."""

    def resolve() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    try:
        job.loop.call_soon_threadsafe(resolve)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass
