"""Temporarily shorter embeddings: ``with model.truncate_embeddings(64): model.encode(...)``."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


class ModelTruncationMixin:
    """Adds sentence-transformers' ``truncate_embeddings`` context manager (and its old name)."""

    truncate_dim: int | None

    @contextmanager
    def truncate_embeddings(self, truncate_dim: int | None) -> Iterator[None]:
        """Inside the block ``encode`` returns embeddings cut to ``truncate_dim`` dimensions (None: no
        cut); the model's own ``truncate_dim`` is restored afterwards, also on an error."""
        original = self.truncate_dim
        try:
            self.truncate_dim = truncate_dim
            yield
        finally:
            self.truncate_dim = original

    @contextmanager
    def truncate_sentence_embeddings(self, truncate_dim: int | None) -> Iterator[None]:
        """The older name of ``truncate_embeddings`` (warns FutureWarning, as sentence-transformers does)."""
        warnings.warn(
            "The `truncate_sentence_embeddings` method has been renamed to `truncate_embeddings`.",
            FutureWarning,
            stacklevel=3,
        )
        with self.truncate_embeddings(truncate_dim):
            yield
