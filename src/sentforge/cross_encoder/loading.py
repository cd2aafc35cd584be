"""Load the classification model and tokenizer of a CrossEncoder from a folder or a model id."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from torch import nn

from ..errors import SentforgeError
from ..util.weight_shapes import from_pretrained_checked
from ..hub import hub_repo_id, resolve_model_path
from ..packaged_models import packaged_model_dir
from . import folder

logger = logging.getLogger(__name__)
# Weights a checkpoint without a classification head lacks: new, as in sentence-transformers.
HEAD_PREFIXES = ("classifier.", "pooler.", "score.", "pre_classifier.")


@dataclass
class LoadedCrossEncoder:
    model: nn.Module
    tokenizer: Any
    max_length: int | None
    settings: folder.SavedSettings
    hub_id: str | None


def resolve_cross_encoder_path(name: str, cache_folder: str | None, revision: str | None, token: Any,
                               local_files_only: bool) -> str:
    """A local folder for ``name``: a path, a packaged model, or a hub id (bare names: ``cross-encoder/``)."""
    name = os.path.expanduser(name)
    if os.path.isdir(name) or packaged_model_dir(name):
        return resolve_model_path(name)
    repo_id = hub_repo_id(name, "cross-encoder")
    return resolve_model_path(repo_id, cache_folder, revision, token, local_files_only)


def load_pretrained(name: str, *, num_labels: int | None, max_length: int | None, cache_folder: str | None,
                    trust_remote_code: bool, revision: str | None, local_files_only: bool, token: Any,
                    model_kwargs: dict | None, processor_kwargs: dict | None,
                    config_kwargs: dict | None) -> LoadedCrossEncoder:
    """Config, ``AutoModelForSequenceClassification`` (safetensors only unless opted out) and tokenizer."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    path = resolve_cross_encoder_path(name, cache_folder, revision, token, local_files_only)
    common = {"trust_remote_code": trust_remote_code, "local_files_only": local_files_only or os.path.isdir(path)}
    config_kwargs = dict(config_kwargs or {})
    if num_labels is not None:
        config_kwargs["num_labels"] = num_labels
    config = AutoConfig.from_pretrained(path, **config_kwargs, **common)
    architectures = getattr(config, "architectures", None) or []
    if "num_labels" not in config_kwargs and not any(a.endswith("ForSequenceClassification") for a in architectures):
        config.num_labels = 1  # an encoder checkpoint: a one-label (score) head
    settings = folder.read_settings(path, config)
    model_kwargs = dict(model_kwargs or {})
    model_kwargs.setdefault("use_safetensors", True)
    folder.refuse_pickle_only(path, model_kwargs["use_safetensors"])
    model = _load_model(AutoModelForSequenceClassification, path, config, model_kwargs, common)
    processor_kwargs = dict(processor_kwargs or {})
    if max_length is not None:
        processor_kwargs["model_max_length"] = max_length
    tokenizer = AutoTokenizer.from_pretrained(path, **processor_kwargs, **common)
    return LoadedCrossEncoder(
        model=model,
        tokenizer=tokenizer,
        max_length=max_length or settings.max_length or _default_max_length(tokenizer, config),
        settings=settings,
        hub_id=_hub_id(name, path),
    )


def _load_model(auto_class, path: str, config, model_kwargs: dict, common: dict) -> nn.Module:
    from transformers.utils import logging as hf_logging

    verbosity, bars = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()  # the "newly initialized weights" notice: said below, once
    hf_logging.disable_progress_bar()
    model_kwargs = dict(model_kwargs)
    resizable = bool(model_kwargs.pop("ignore_mismatched_sizes", False))
    try:
        model, info = from_pretrained_checked(auto_class, path, config, resizable,
                                              "model_kwargs={'ignore_mismatched_sizes': True}", **model_kwargs,
                                              **common)
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    missing = [key for key in info.get("missing_keys", ()) if not key.endswith("position_ids")]
    head = [key for key in missing if _is_head(key)]
    body = [key for key in missing if not _is_head(key)]
    if body:
        raise SentforgeError(
            f"The weights in {path!r} do not match its {type(model).__name__} architecture: {len(body)} missing "
            f"({', '.join(body[:5])}). They would stay random. Re-save or re-download the model."
        )
    if head:
        logger.info("A new classification head was initialized for %s: %s", path, ", ".join(head))
    model.new_head_weights = head  # read by train-reranker: a new head learns at a larger rate
    return model


def _is_head(key: str) -> bool:
    parts = key.split(".")
    return any(".".join(parts[i:]).startswith(HEAD_PREFIXES) for i in range(min(2, len(parts))))


def _default_max_length(tokenizer, config) -> int | None:
    """The tokenizer's limit, capped by the model's positions (as sentence-transformers)."""
    limits = [getattr(tokenizer, "model_max_length", None), getattr(config, "max_position_embeddings", None)]
    limits = [limit for limit in limits if isinstance(limit, int) and limit < 1_000_000]
    return min(limits) if limits else None


def _hub_id(name: str, path: str) -> str | None:
    """The hub id the model came from, for the card; None for a local folder."""
    if os.path.isdir(os.path.expanduser(name)):
        return None
    if packaged_model_dir(name):
        return name if "/" in name else f"sentence-transformers/{name}"
    return hub_repo_id(name, "cross-encoder")
