"""The embedding service behind the routes: token counts, length checks, and the batcher that owns the model."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .batching import DynamicBatcher
from .config import ServeConfig
from .errors import ApiError
from .metrics import ServingMetrics
from .tokens import TokenCounter
from .unnormalized import without_final_normalize

INLINE_COUNT_CHARS = 4096
"""Texts shorter than this in total are counted on the event loop (a thread hop would cost more)."""


@dataclass
class Embedded:
    """Raw model embeddings of a request's texts (rows in input order) and the tokens they used."""

    vectors: np.ndarray
    tokens: int


class EmbeddingService:
    """One model in memory, encoded from one worker thread; ``embed`` is called from request handlers.

    The vectors it returns are the model's before a final Normalize module; routes scale them.
    """

    def __init__(self, model: Any, model_name: str, config: ServeConfig, metrics: ServingMetrics,
                 counter: TokenCounter | None = None, model_folder: str | None = None) -> None:
        self.model = model
        self.model_name = model_name
        self.config = config
        self.metrics = metrics
        self.counter = counter or TokenCounter.for_model(model, model_folder)
        self.max_seq_length = int(model.max_seq_length or 0) or None
        self.dimension = int(model.get_sentence_embedding_dimension())
        self._unnormalized = without_final_normalize(model)
        self.batcher = DynamicBatcher(self._encode, config.max_batch_tokens, config.max_wait_ms, metrics)

    def start(self) -> None:
        self.batcher.start()

    def stop(self) -> None:
        self.batcher.stop()

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Runs in the worker thread only."""
        return self._unnormalized.encode(texts, batch_size=self.config.batch_size, convert_to_numpy=True,
                                         show_progress_bar=False)

    async def count_tokens(self, texts: list[str]) -> list[int]:
        """Untruncated token counts, off the event loop for long inputs."""
        if sum(len(text) for text in texts) <= INLINE_COUNT_CHARS:
            return self.counter.count(texts)
        return await asyncio.to_thread(self.counter.count, texts)

    async def submit(self, texts: list[str], truncate: bool | None, param: str = "input",
                     name_of: Callable[[int], str] | None = None,
                     from_left: bool = False) -> tuple[asyncio.Future, int]:
        """Check lengths and queue ``texts``; returns the future of their raw embeddings and the tokens used.

        Over-long texts are cut to ``max_seq_length`` when ``truncate`` (default: the server's
        setting), keeping their start (or their end, ``from_left``), else refused with 413;
        ``name_of(i)`` names text ``i`` in that message.
        """
        counts = await self.count_tokens(texts)
        limit = self.max_seq_length
        if limit is not None:
            truncate = self.config.truncate if truncate is None else truncate
            too_long = [i for i, n in enumerate(counts) if n > limit]
            if too_long and not truncate:
                first = too_long[0]
                where = name_of(first) if name_of else (f"{param}[{first}]" if len(texts) > 1 else param)
                raise ApiError(
                    413, f"{where} has {counts[first]} tokens, more than the model reads ({limit}); "
                    f"{len(too_long)} input(s) are too long. Shorten them, or let the server truncate them "
                    "(send \"truncate\": true to /embed, or start the server without --no-truncate).",
                    param=param, code="input_too_long")
            if from_left and too_long:  # long texts by definition: tokenized off the event loop
                tails = await asyncio.to_thread(lambda: [self.counter.tail(texts[i], limit) for i in too_long])
                texts = list(texts)
                for i, tail in zip(too_long, tails):
                    texts[i] = tail
            counts = [min(n, limit) for n in counts]
        tokens = int(sum(counts))
        return self.batcher.submit(texts, tokens), tokens
