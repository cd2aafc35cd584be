"""The reranker behind ``/v1/search``: a CrossEncoder that reorders retrieved hits, off the event loop.

Scoring runs in one worker thread of its own (a one-thread executor, plus a lock for callers that
reach the model directly), so torch never blocks request handling and the embedding worker keeps
its own thread. A request whose client left before its turn is dropped unrun.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..errors import SentforgeError

from .batching import ServerStopping


class RerankService:
    """One CrossEncoder in memory; ``submit`` queues the reranking of one query's hits."""

    def __init__(self, model: Any, model_name: str, batch_size: int = 32) -> None:
        labels = getattr(model, "num_labels", 1)
        if labels != 1:
            raise SentforgeError(f"The reranker {model_name!r} has {labels} labels; reranking needs a one-label "
                                 "(relevance score) CrossEncoder.")
        self.model = model
        self.model_name = model_name
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentforge-reranker")

    def stop(self) -> None:
        """Finish the reranking in progress, drop the queued ones; later submissions fail."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)

    def submit(self, query: str, hits: Any, k: int) -> asyncio.Future:
        """A future of the ``k`` best of ``hits`` (a SearchHits) by reranker score, as response rows."""
        executor = self._executor
        if executor is None:
            raise ServerStopping("The server is shutting down.")
        try:
            return asyncio.get_running_loop().run_in_executor(executor, self.rerank, query, hits, k)
        except RuntimeError:  # shut down between the check and the call
            raise ServerStopping("The server is shutting down.") from None

    def rerank(self, query: str, hits: Any, k: int) -> list[dict[str, Any]]:
        """Rows ``{"rank", "id", "score", "retrieval_score", "retrieval_rank", "text"}`` (and ``fused_score``
        where the reranker's folder holds a fusion weight), best first."""
        from ..cross_encoder.reranked_hits import reranked_rows

        with self._lock:
            return reranked_rows(self.model, query, hits, k, self.batch_size)
