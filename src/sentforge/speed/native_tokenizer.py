"""A checkpoint's ``tokenizer.json`` run by the Rust ``tokenizers`` library, without transformers.

For the BERT and MPNet tokenizers the ids equal what transformers' fast tokenizer returns (the
same Rust pipeline, called with truncation to ``max_seq_length`` and padding done here).
``from_folder`` returns None for anything it cannot vouch for (another tokenizer class, a
config that transformers would use to rewrite the pipeline, left padding or truncation),
and the caller then loads transformers' tokenizer as before.
"""

from __future__ import annotations

import json
import os
from typing import Any

from torch import Tensor

from ..modules.padding import pad_token_ids

SUPPORTED_CLASSES = ("BertTokenizer", "BertTokenizerFast", "MPNetTokenizer", "MPNetTokenizerFast")
# tokenizer_config.json fields that transformers compares with (and may write into) the normalizer
_NORMALIZER_FIELDS = {"do_lower_case": "lowercase", "strip_accents": "strip_accents",
                      "tokenize_chinese_chars": "handle_chinese_chars"}
_UNBOUNDED = 1_000_000


_UNTRUNCATED = -1  # the backend's truncation was switched off by full_ids

class NativeTokenizer:
    """Token ids for single texts and text pairs, truncated longest-first, padded on the right."""

    def __init__(self, backend: Any, pad_token_id: int, model_max_length: int | None, with_token_types: bool) -> None:
        self.backend = backend
        self.pad_token_id = pad_token_id
        self.model_max_length = model_max_length
        self.with_token_types = with_token_types
        self._truncation: int | None = -1  # the length the backend is set to truncate at

    @classmethod
    def from_folder(cls, folder: str) -> "NativeTokenizer | None":
        """The folder's tokenizer, or None when only transformers' tokenizer is known to be right."""
        settings = read_json_dict(os.path.join(folder, "tokenizer_config.json"))
        pipeline_file = os.path.join(folder, "tokenizer.json")
        if settings is None or not os.path.isfile(pipeline_file):
            return None
        pipeline = read_json_dict(pipeline_file)
        if pipeline is None or _unsupported(settings, pipeline):
            return None
        pad_token = _token_text(settings.get("pad_token"))
        if pad_token is None:
            special_tokens = read_json_dict(os.path.join(folder, "special_tokens_map.json")) or {}
            pad_token = _token_text(special_tokens.get("pad_token"))
        from tokenizers import Tokenizer

        backend = Tokenizer.from_file(pipeline_file)
        pad_id = backend.token_to_id(pad_token) if pad_token else None
        if pad_id is None:
            return None
        backend.no_padding()
        limit = settings.get("model_max_length")
        limit = int(limit) if isinstance(limit, (int, float)) and limit < _UNBOUNDED else None
        with_types = str(settings.get("tokenizer_class", "")).startswith("Bert")
        return cls(backend, pad_id, limit, with_types)

    def _truncate_at(self, max_length: int | None) -> None:
        length = max_length if max_length is not None else self.model_max_length
        if length == self._truncation:
            return
        if length is None:
            self.backend.no_truncation()
        else:
            self.backend.enable_truncation(length, strategy="longest_first")
        self._truncation = length

    def ids(self, texts: list[str], max_length: int | None) -> list[list[int]]:
        """Token ids of single texts, unpadded."""
        self._truncate_at(max_length)
        return [encoding.ids for encoding in self.backend.encode_batch(texts)]

    def full_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of single texts with nothing cut off (special tokens included)."""
        self.backend.no_truncation()
        self._truncation = _UNTRUNCATED
        return [encoding.ids for encoding in self.backend.encode_batch(texts)]

    def batch(self, columns: list[list[str]], max_length: int | None) -> dict[str, Tensor]:
        """Padded ``input_ids``, ``attention_mask`` (and ``token_type_ids`` for BERT) of texts or pairs."""
        self._truncate_at(max_length)
        inputs = list(zip(*columns)) if len(columns) == 2 else columns[0]
        encodings = self.backend.encode_batch(inputs)
        input_ids, mask = pad_token_ids([e.ids for e in encodings], self.pad_token_id)
        features = {"input_ids": input_ids}
        if self.with_token_types:
            types, _ = pad_token_ids([e.type_ids for e in encodings], 0)
            features["token_type_ids"] = types
        features["attention_mask"] = mask
        return features


def _unsupported(settings: dict[str, Any], pipeline: dict[str, Any]) -> bool:
    """True when transformers would tokenize differently from the pipeline file as it stands."""
    if settings.get("tokenizer_class") not in SUPPORTED_CLASSES:
        return True
    if settings.get("padding_side", "right") != "right" or settings.get("truncation_side", "right") != "right":
        return True
    normalizer = pipeline.get("normalizer") or {}
    if normalizer.get("type") != "BertNormalizer":
        return True
    for setting, field in _NORMALIZER_FIELDS.items():
        if setting in settings and settings[setting] != normalizer.get(field):
            return True
    known = {(t.get("content"), t.get("id")) for t in pipeline.get("added_tokens") or []}
    for token_id, token in (settings.get("added_tokens_decoder") or {}).items():
        if (token.get("content"), int(token_id)) not in known:
            return True
    return False


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else None


def read_json_dict(path: str) -> dict[str, Any] | None:
    """A JSON file's object, or None when the file is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def tokenizer_fingerprint(tokenizer: Any) -> tuple:
    """What of transformers' tokenizer decides how texts are cut into ids: its vocabulary size (added
    tokens included), sides, limits, special tokens and its normaliser, pre-tokeniser and post-processor.
    Equal fingerprints mean the tokenizer was read but not changed."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    parts = [
        len(tokenizer), getattr(tokenizer, "padding_side", None), getattr(tokenizer, "truncation_side", None),
        getattr(tokenizer, "model_max_length", None), repr(getattr(tokenizer, "special_tokens_map", None)),
        getattr(tokenizer, "do_lower_case", None), type(tokenizer),
    ]
    for name in ("normalizer", "pre_tokenizer", "post_processor"):
        component = getattr(backend, name, None)
        parts.append(component.__getstate__() if hasattr(component, "__getstate__") else None)
    return tuple(parts)
