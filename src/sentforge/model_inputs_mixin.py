"""Turning inputs into model features, under sentence-transformers 6's names: ``preprocess``,
``is_singular_input``, ``set_pooling_include_prompt`` and the deprecated ``get_sentence_features``."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch import Tensor

from .errors import SentforgeError

_ACCEPTED_KWARGS = {"task"}  # sentence-transformers' Transformer ignores it for plain text encoders


class ModelInputsMixin:
    """Adds sentence-transformers' input preparation methods to SentenceTransformer."""

    def preprocess(self, inputs: Sequence[str | tuple[str, str]], prompt: str | None = None,
                   **kwargs: Any) -> dict[str, Tensor | Any]:
        """Tokenize a batch of texts (or text pairs) as ``encode`` does: padded tensors plus
        ``"modality": "text"``, and ``"prompt_length"`` (prompt tokens without the closing special
        token) when ``prompt`` is prepended. ``task`` is accepted and, as for any text encoder, ignored."""
        unknown = sorted(set(kwargs) - _ACCEPTED_KWARGS)
        if unknown:
            raise TypeError(f"preprocess() got unexpected keyword arguments {unknown}; it accepts prompt and task.")
        if isinstance(inputs, str):
            raise SentforgeError("preprocess() needs a list of texts; wrap a single text in a list: [text].")
        if not inputs:
            return {}
        texts = [_checked_input(item, index) for index, item in enumerate(inputs)]
        if prompt:
            texts = [(prompt + t[0], t[1]) if isinstance(t, tuple) else prompt + t for t in texts]
        features: dict[str, Any] = dict(self._first_module().tokenize(texts))
        features["modality"] = "text"
        if prompt:
            features["prompt_length"] = self._prompt_token_length(prompt)
        return features

    def _prompt_token_length(self, prompt: str) -> int:
        """Tokens of ``prompt`` as it starts a text: its tokenization without a closing special token."""
        ids = self._first_module().tokenize([prompt])["input_ids"][0]
        length = int(ids.shape[-1])
        special = getattr(self.tokenizer, "all_special_ids", None) or []
        return length - 1 if int(ids[-1]) in special else length

    def is_singular_input(self, inputs: Any) -> bool:
        """True for one input (a string, or a conversation: a list of role/content dicts), False for a
        batch (a list, tuple, datasets Column, or numpy array of strings)."""
        if isinstance(inputs, list) and inputs and _is_message(inputs[0]):
            return True
        if isinstance(inputs, (list, tuple)) or _is_datasets_column(inputs):
            return False
        if isinstance(inputs, np.ndarray) and inputs.ndim >= 1 and inputs.dtype.kind in ("U", "O"):
            return False
        return True

    def set_pooling_include_prompt(self, include_prompt: bool) -> None:
        """Set ``include_prompt`` of the first Pooling module (if any): with False the prompt's tokens
        are left out of the pooled embedding (INSTRUCTOR models need this)."""
        from .modules import Pooling

        for module in self:
            if isinstance(module, Pooling):
                module.include_prompt = include_prompt
                break

    def get_sentence_features(self, *features: Any) -> dict[str, Tensor]:
        """Deprecated: the first module's ``get_sentence_features`` (which Transformer modules lack)."""
        warnings.warn(
            "The `get_sentence_features` method is deprecated and will be removed in a future version.",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._first_module().get_sentence_features(*features)


def _checked_input(item: Any, index: int) -> str | tuple[str, str]:
    if isinstance(item, str):
        return item
    if isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(t, str) for t in item):
        return (item[0], item[1])
    raise SentforgeError(
        f"preprocess() input {index} is {type(item).__name__} ({item!r:.60}); expected a text or a (text, text) "
        "pair. sentforge models take text only."
    )


def _is_datasets_column(value: Any) -> bool:
    """A ``datasets.Column`` (only possible once datasets is imported, so no import happens here otherwise)."""
    if "datasets" not in sys.modules:
        return False
    column = getattr(sys.modules["datasets"], "Column", None)
    return column is not None and isinstance(value, column)


def _is_message(value: Any) -> bool:
    return isinstance(value, dict) and "role" in value and "content" in value
