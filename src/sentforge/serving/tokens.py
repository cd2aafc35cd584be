"""Token counts of request texts, with the model's own tokenizer, before any truncation.

The server needs them before a text reaches the model: to pack batches by tokens, to report
``usage`` and to refuse over-long texts when truncation is off. A separate tokenizer instance is
used so the model's own tokenizer settings are never touched from another thread.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any


class TokenCounter:
    """``count(texts)``: tokens of each text as the model tokenizes it, special tokens included."""

    def __init__(self, tokenize: Any, lower_case: bool = False, prefix: str = "", offsets: Any = None) -> None:
        self._tokenize = tokenize
        self._offsets = offsets  # text -> (character spans, special-token mask), for cutting from the left
        self.lower_case = lower_case
        self.prefix = prefix

    @classmethod
    def for_model(cls, model: Any, folder: str | None = None) -> "TokenCounter":
        """A counter for a SentenceTransformer; ``folder`` (where it was loaded from) lets the Rust
        tokenizer be read from its ``tokenizer.json`` instead of copying transformers' tokenizer."""
        first = model[0]
        lower_case = bool(getattr(first, "do_lower_case", False))
        prompt_name = getattr(model, "default_prompt_name", None)
        prefix = (getattr(model, "prompts", {}) or {}).get(prompt_name, "") if prompt_name else ""
        backend = _rust_tokenizer(folder) if folder else None
        if backend is not None:
            def rust_offsets(text: str) -> tuple[list, list]:
                encoding = backend.encode(text)
                return encoding.offsets, encoding.special_tokens_mask

            return cls(lambda texts: [len(e.ids) for e in backend.encode_batch(texts)], lower_case, prefix,
                       rust_offsets)
        tokenizer = copy.deepcopy(first.tokenizer)

        def hf_offsets(text: str) -> tuple[list, list]:
            encoded = tokenizer(text, truncation=False, return_offsets_mapping=True, return_special_tokens_mask=True)
            return encoded["offset_mapping"], encoded["special_tokens_mask"]

        offsets = hf_offsets if getattr(tokenizer, "is_fast", False) else None
        return cls(lambda texts: [len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]],
                   lower_case, prefix, offsets)

    def count(self, texts: list[str]) -> list[int]:
        """Token counts of ``texts`` (stripped, lower-cased when the model lower-cases, with its default prompt)."""
        prepared = [(self.prefix + text).strip() for text in texts]
        if self.lower_case:
            prepared = [text.lower() for text in prepared]
        return list(self._tokenize(prepared))

    def tail(self, text: str, limit: int) -> str:
        """The end of ``text`` that fits in ``limit`` tokens with the prompt and special tokens (TEI's
        left truncation); ``text`` itself when it fits or the tokenizer gives no character spans."""
        if self._offsets is None:
            return text
        stripped = text.strip()
        prompt_tokens = sum(1 - m for m in self._offsets(self.prefix.strip())[1]) if self.prefix.strip() else 0
        spans, special = self._offsets(stripped.lower() if self.lower_case else stripped)
        content = [span for span, is_special in zip(spans, special) if not is_special]
        keep = limit - sum(special) - prompt_tokens
        if len(content) <= keep or keep < 1:
            return text
        return stripped[content[-keep][0]:]


def _rust_tokenizer(folder: str) -> Any:
    """The folder's ``tokenizer.json`` (root, or the Transformer module's folder) without truncation or padding."""
    from tokenizers import Tokenizer

    root = Path(folder)
    candidates = [root / "tokenizer.json"]
    try:
        modules = json.loads((root / "modules.json").read_text(encoding="utf-8"))
        candidates += [root / str(module["path"]) / "tokenizer.json"
                       for module in modules if isinstance(module, dict) and module.get("path")]
    except (OSError, ValueError, TypeError):
        pass
    for path in candidates:
        if path.is_file():
            try:
                backend = Tokenizer.from_file(str(path))
            except Exception:  # noqa: BLE001 - an unreadable file: fall back to transformers' tokenizer
                return None
            backend.no_truncation()
            backend.no_padding()
            return backend
    return None
