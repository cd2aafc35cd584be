"""Transformer module: a Hugging Face encoder and its tokenizer, producing token embeddings."""

from __future__ import annotations

import json
import os
from array import array
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

import torch
from torch import Tensor, nn

from ..errors import SentforgeError
from ..util.weight_shapes import from_pretrained_checked
from .weight_checks import OPT_IN, check_weights
from ..speed.native_encoder import HF_CLASS_NAMES, NativeEncoder
from ..speed.native_loading import (
    MISMATCH_SWITCH,
    NativeCheckpoint,
    build_hf_model,
    build_hf_tokenizer,
    load_native,
    native_enabled,
)
from ..speed.native_tokenizer import NativeTokenizer, tokenizer_fingerprint
from ..speed.packed_forward import packed_forward, packed_forward_unsupported_reason
from ..speed.switches import decline, enabled
from .padding import pad_token_ids

CONFIG_NAME = "sentence_bert_config.json"


class Transformer(nn.Module):
    """Wraps ``transformers.AutoModel`` + ``AutoTokenizer``; adds ``token_embeddings`` to the features.

    A local BERT/MPNet safetensors checkpoint loads into the native encoder and Rust tokenizer
    (no transformers import: a faster start); ``auto_model`` and ``tokenizer`` become the
    transformers objects, holding the same parameters, on first access.

    Weights load from safetensors only unless ``model_args={"use_safetensors": False}`` is passed:
    pickled weights can run code on load, so they are refused by default. Weights missing from
    the checkpoint (they would stay random) or unexpected in it are an error unless
    ``model_args={"ignore_mismatched_weights": True}`` is passed.
    """

    def __init__(
        self,
        model_name_or_path: str,
        max_seq_length: int | None = None,
        model_args: dict[str, Any] | None = None,
        tokenizer_args: dict[str, Any] | None = None,
        config_args: dict[str, Any] | None = None,
        cache_dir: str | None = None,
        do_lower_case: bool = False,
        tokenizer_name_or_path: str | None = None,
        local_files_only: bool = False,
        trust_remote_code: bool = False,
    ) -> None:
        super().__init__()
        self.onnx = None  # an onnxruntime encoder (backends/onnx_runtime.py) when loaded with backend="onnx"
        self._token_memo: dict[str, Sequence[int]] | None = None  # one run's token ids per text (use_token_memo)
        self.do_lower_case = do_lower_case
        self.fast_forward = True  # packed, padding-free forward where the model supports it (same results)
        self._native: NativeCheckpoint | None = None
        self._hf_tokenizer = None
        self._hf_fingerprint: tuple | None = None
        options = {"model_args": model_args, "tokenizer_args": tokenizer_args, "config_args": config_args,
                   "trust_remote_code": trust_remote_code, "tokenizer_name_or_path": tokenizer_name_or_path}
        if os.path.isdir(model_name_or_path) and native_enabled(options):
            self._native = load_native(model_name_or_path)
        if self._native is not None:
            self.auto_model, config = self._native.encoder, self._native.encoder.config
            if self._native.tokenizer is None:  # a tokenizer only transformers can vouch for
                self._hf_tokenizer = build_hf_tokenizer(self._native)
        else:
            config, self.auto_model, self._hf_tokenizer = _load_with_transformers(
                model_name_or_path, model_args, tokenizer_args, config_args, cache_dir,
                tokenizer_name_or_path, local_files_only, trust_remote_code,
            )
        native_tokenizer = self._native_tokenizer()
        tokenizer_limit = (native_tokenizer.model_max_length if native_tokenizer is not None
                           else getattr(self._hf_tokenizer, "model_max_length", None))
        if max_seq_length is None:
            max_seq_length = _default_max_length(tokenizer_limit, config)
        self.max_seq_length = max_seq_length

    # -- the encoder and tokenizer, built through transformers on first use when loaded natively ----------
    def __getattr__(self, name: str) -> Any:
        modules = self.__dict__.get("_modules", {})
        if name == "auto_model" and isinstance(modules.get("auto_model"), NativeEncoder):
            self._modules["auto_model"] = build_hf_model(self._native, self._modules["auto_model"])
        return super().__getattr__(name)

    @property
    def tokenizer(self):
        """transformers' tokenizer (built from the checkpoint's files on first use). Reading it changes
        nothing: the fast tokenizer stays in use until this tokenizer is changed or replaced."""
        if self._hf_tokenizer is None and self._native is not None:
            self._hf_tokenizer = build_hf_tokenizer(self._native)
            self._hf_fingerprint = tokenizer_fingerprint(self._hf_tokenizer)
        return self._hf_tokenizer

    @tokenizer.setter
    def tokenizer(self, value) -> None:
        self._hf_tokenizer = value
        self._hf_fingerprint = None  # a tokenizer set by the caller is always the one used

    def _encoder(self) -> nn.Module:
        """The encoder as it is now (native or transformers'), without building anything."""
        return self._modules["auto_model"]

    def _native_tokenizer(self) -> NativeTokenizer | None:
        """The Rust tokenizer, while transformers' tokenizer is as it was built (read, but not changed)."""
        if self._native is None or not enabled("native_tokenizer"):
            return None
        if self._hf_tokenizer is not None:
            fingerprint = getattr(self, "_hf_fingerprint", None)
            if fingerprint is None or tokenizer_fingerprint(self._hf_tokenizer) != fingerprint:
                return None
        return self._native.tokenizer

    # -- features --------------------------------------------------------------------------
    def tokenize(self, texts: list[str] | list[tuple[str, str]], padding: str | bool = True) -> dict[str, Tensor]:
        """Tokenize a batch of texts (or text pairs) to padded tensors, truncated to max_seq_length."""
        if texts and isinstance(texts[0], (tuple, list)):
            columns = [self._prepare([t[0] for t in texts]), self._prepare([t[1] for t in texts])]
        else:
            columns = [self._prepare(texts)]
        native = self._native_tokenizer()
        if native is not None and padding in (True, "longest"):
            return native.batch(columns, self.max_seq_length)
        return dict(
            self.tokenizer(
                *columns,
                padding=padding,
                truncation="longest_first",
                return_tensors="pt",
                max_length=self.max_seq_length,
            )
        )

    def use_token_memo(self, memo: dict[str, Sequence[int]] | None) -> None:
        """Keep token ids per text in ``memo`` (one run's: the pipeline opens and closes it) so that the data
        doctor, the trainer and the card tokenize each text once; None stops."""
        self._token_memo = memo

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text as the model tokenizes it, special tokens included and nothing cut off."""
        prepared = self._prepare(texts)
        full = self._full_ids(prepared)
        if full is not None:
            return [len(ids) for ids in full]
        encoded = self.tokenizer(prepared, add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def tokenize_ids(self, texts: list[str]) -> list[list[int]]:
        """Token ids of single texts, unpadded and truncated to max_seq_length (as ``tokenize``)."""
        native = self._native_tokenizer()
        if native is not None:
            prepared = self._prepare(texts)
            limit = self.max_seq_length
            if self._token_memo is not None and (limit is None or limit >= 3):
                # Cut as the tokenizer cuts one text: keep the first tokens and the closing special token.
                return [list(ids) if limit is None or len(ids) <= limit else list(ids[: limit - 1]) + [ids[-1]]
                        for ids in self._full_ids(prepared)]
            return native.ids(prepared, limit)
        return self.tokenizer(self._prepare(texts), truncation=True, max_length=self.max_seq_length,
                              padding=False)["input_ids"]

    def _full_ids(self, prepared: list[str]) -> list[Sequence[int]] | None:
        """Untruncated ids from the Rust tokenizer, through the run's memo when one is open (kept as int32
        arrays: 4 bytes a token); None without the Rust tokenizer."""
        native = self._native_tokenizer()
        if native is None:
            return None
        memo = self._token_memo
        if memo is None:
            return native.full_ids(prepared)
        missing = [text for text in dict.fromkeys(prepared) if text not in memo]
        if missing:
            memo.update((text, array("i", ids)) for text, ids in zip(missing, native.full_ids(missing)))
        return [memo[text] for text in prepared]

    def pad_ids(self, sequences: list[list[int]]) -> dict[str, Tensor]:
        """``input_ids`` and ``attention_mask`` for token-id lists, padded on the tokenizer's side."""
        native = self._native_tokenizer()
        if native is not None:
            input_ids, mask = pad_token_ids(sequences, native.pad_token_id)
        else:
            left = getattr(self.tokenizer, "padding_side", "right") == "left"
            input_ids, mask = pad_token_ids(sequences, self.tokenizer.pad_token_id or 0, left=left)
        return {"input_ids": input_ids, "attention_mask": mask}

    def _prepare(self, texts: list) -> list[str]:
        """Texts as the tokenizer gets them: stripped, lower-cased when the model asks for it."""
        prepared = [str(t).strip() for t in texts]
        return [t.lower() for t in prepared] if self.do_lower_case else prepared

    def forward(self, features: dict[str, Tensor]) -> dict[str, Tensor]:
        """Run the encoder; store ``token_embeddings`` (zeros where padded when the packed path runs)."""
        if self.onnx is not None:
            if self.training and torch.is_grad_enabled():
                raise SentforgeError("A model loaded with backend='onnx' runs inference only; load it with "
                                     "backend='torch' to train it.")
            features["token_embeddings"] = self.onnx(features)
            return features
        token_embeddings = None
        if self.fast_forward and enabled("packed_forward", features["input_ids"].device):
            token_embeddings = _try_packed_forward(self._encoder(), features)
        if token_embeddings is None:
            inputs = {k: features[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
            if "token_type_ids" in inputs and not _accepts_token_types(self.auto_model):
                inputs.pop("token_type_ids")
            token_embeddings = self.auto_model(**inputs, return_dict=True).last_hidden_state
        features["token_embeddings"] = token_embeddings
        return features

    def fast_forward_unsupported_reason(self) -> str | None:
        """Why the packed forward cannot run this encoder (None when it runs)."""
        return packed_forward_unsupported_reason(self._encoder())

    def get_word_embedding_dimension(self) -> int:
        return int(self._encoder().config.hidden_size)

    # -- persistence -----------------------------------------------------------------------
    def get_config_dict(self) -> dict[str, Any]:
        return {"max_seq_length": self.max_seq_length, "do_lower_case": self.do_lower_case}

    def save(self, output_path: str) -> None:
        """Write weights (safetensors), tokenizer and ``sentence_bert_config.json`` (and the ONNX graph in
        ``onnx/`` when the model runs on onnxruntime)."""
        if self.onnx is not None:
            from ..backends.onnx_runtime import copy_graph

            copy_graph(self.onnx, output_path)
        with _quiet_loading():
            self.auto_model.save_pretrained(output_path, safe_serialization=True)
        self.tokenizer.save_pretrained(output_path)
        with open(os.path.join(output_path, CONFIG_NAME), "w", encoding="utf-8") as f:
            json.dump(self.get_config_dict(), f, indent=2)

    @classmethod
    def load(cls, input_path: str, **kwargs: Any) -> "Transformer":
        """Load from a folder; reads both the classic and the newer sentence_bert_config keys."""
        config: dict[str, Any] = {}
        config_file = os.path.join(input_path, CONFIG_NAME)
        if os.path.exists(config_file):
            with open(config_file, encoding="utf-8") as f:
                config = json.load(f)
        max_seq_length = kwargs.pop("max_seq_length", None) or config.get("max_seq_length")
        do_lower_case = bool(config.get("do_lower_case", False))
        return cls(input_path, max_seq_length=max_seq_length, do_lower_case=do_lower_case, **kwargs)

    def __repr__(self) -> str:
        encoder = self._encoder()
        name = HF_CLASS_NAMES[encoder.model_type] if isinstance(encoder, NativeEncoder) else type(encoder).__name__
        return f"Transformer({self.get_config_dict()}) with Transformer model: {name} "


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """Hide transformers' per-load progress bars; restore the user's setting afterwards."""
    from transformers.utils import logging as hf_logging

    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if enabled:
            hf_logging.enable_progress_bar()


def _load_with_transformers(
    path: str,
    model_args: dict[str, Any] | None,
    tokenizer_args: dict[str, Any] | None,
    config_args: dict[str, Any] | None,
    cache_dir: str | None,
    tokenizer_name_or_path: str | None,
    local_files_only: bool,
    trust_remote_code: bool,
) -> tuple[Any, nn.Module, Any]:
    """(config, model, tokenizer) through transformers' Auto classes; safetensors unless opted out."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    model_args = dict(model_args or {})
    strict = not model_args.pop(MISMATCH_SWITCH, False)
    model_args.pop("output_loading_info", None)
    common = {"cache_dir": cache_dir, "local_files_only": local_files_only, "trust_remote_code": trust_remote_code}
    config = AutoConfig.from_pretrained(path, **dict(config_args or {}), **common)
    model_args.setdefault("use_safetensors", True)
    _refuse_pickle_only(path, model_args["use_safetensors"])
    with _quiet_loading():
        resizable = bool(model_args.pop("ignore_mismatched_sizes", False))  # transformers' own switch, asked
        model, info = from_pretrained_checked(AutoModel, path, config, resizable or not strict, OPT_IN,
                                              **model_args, **common)
    if resizable:
        info = {**info, "mismatched_keys": []}
    check_weights(path, model, info, strict)
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_name_or_path or path, **dict(tokenizer_args or {}), **common)
    return config, model, tokenizer


def _default_max_length(tok_max: int | None, config) -> int | None:
    """As sentence-transformers: the tokenizer's limit, capped by the model's positions."""
    limits = []
    if isinstance(tok_max, int) and tok_max < 1_000_000:
        limits.append(tok_max)
    pos = getattr(config, "max_position_embeddings", None)
    if isinstance(pos, int):
        limits.append(pos)
    return min(limits) if limits else None


def _refuse_pickle_only(path: str, use_safetensors: bool) -> None:
    if not use_safetensors or not os.path.isdir(path):
        return
    names = set(os.listdir(path))
    has_safe = any(n.endswith(".safetensors") or n == "model.safetensors.index.json" for n in names)
    has_pickle = any(n.endswith((".bin", ".pt", ".pth", ".ckpt")) for n in names)
    if has_pickle and not has_safe:
        raise SentforgeError(
            f"The model folder {path!r} holds only pickled weights (.bin/.pt); loading them can run arbitrary "
            "code, so sentforge refuses by default. Convert them to safetensors, or, if you trust the source, "
            "opt in with SentenceTransformer(path, model_kwargs={'use_safetensors': False})."
        )


def _accepts_token_types(auto_model: nn.Module) -> bool:
    return getattr(auto_model.config, "type_vocab_size", 0) > 0 and auto_model.config.model_type != "mpnet"


def _try_packed_forward(auto_model: nn.Module, features: dict[str, Tensor]) -> Tensor | None:
    """Use the packed (padding-free) forward when it supports this model; else None (and say why, once)."""
    reason = packed_forward_unsupported_reason(auto_model)
    if reason is not None:
        decline("packed_forward", type(auto_model).__name__, reason)
        return None
    return packed_forward(
        auto_model, features["input_ids"], features["attention_mask"], features.get("token_type_ids")
    )
