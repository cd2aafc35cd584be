"""A retriever that embeds each text once: mining and retrieval over the same corpus share the work."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


class CachedEncoder:
    """Wraps a SentenceTransformer; ``encode`` returns normalized embeddings, computing only unseen texts.

    Everything else (``similarity``, ``prompts``, ...) is the wrapped model's. Embeddings are kept
    normalized, so callers must ask for ``normalize_embeddings=True`` (mining and retrieval do).
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self._vectors: dict[tuple[str, Any, Any], np.ndarray] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def encode(self, sentences, batch_size: int = 32, show_progress_bar: bool | None = None,
               normalize_embeddings: bool = False, convert_to_numpy: bool = True, convert_to_tensor: bool = False,
               prompt: str | None = None, prompt_name: str | None = None, **kwargs: Any):
        if not normalize_embeddings or kwargs:
            return self.model.encode(sentences, batch_size=batch_size, show_progress_bar=show_progress_bar,
                                     normalize_embeddings=normalize_embeddings, convert_to_numpy=convert_to_numpy,
                                     convert_to_tensor=convert_to_tensor, prompt=prompt, prompt_name=prompt_name,
                                     **kwargs)
        texts = list(sentences)
        missing = list(dict.fromkeys(t for t in texts if (t, prompt, prompt_name) not in self._vectors))
        if missing:
            vectors = self.model.encode(missing, batch_size=batch_size, show_progress_bar=show_progress_bar,
                                        normalize_embeddings=True, convert_to_numpy=True, prompt=prompt,
                                        prompt_name=prompt_name)
            self._vectors.update({(t, prompt, prompt_name): v for t, v in zip(missing, np.asarray(vectors))})
        stacked = np.stack([self._vectors[(t, prompt, prompt_name)] for t in texts]) if texts else np.zeros((0, 0))
        if convert_to_tensor:
            return torch.from_numpy(stacked)
        return stacked
