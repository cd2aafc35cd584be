"""The cross-encoder folder format of sentence-transformers, read and written.

A saved CrossEncoder is a Hugging Face ``*ForSequenceClassification`` checkpoint (config.json,
model.safetensors, tokenizer files) plus the settings sentence-transformers keeps beside it:

- ``config.json`` holds ``"sentence_transformers": {"activation_fn": "torch.nn.modules.activation.Sigmoid",
  "version": ...}``, which every sentence-transformers version since 4.0 reads;
- ``modules.json``, ``sentence_bert_config.json`` and ``config_sentence_transformers.json``
  (``"model_type": "CrossEncoder"``, ``activation_fn``, prompts) are what 6.x writes and reads first.

Reading accepts all of these and the older ``sbert_ce_default_activation_function`` key; a
plain checkpoint without any of them (e.g. a BERT encoder), or a saved SentenceTransformer, gets a fresh
one-label head on its encoder.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from torch import nn

from ..errors import SentforgeError

logger = logging.getLogger(__name__)

MODULES_FILE = "modules.json"
ST_CONFIG_FILE = "config_sentence_transformers.json"
MODULE_CONFIG_FILE = "sentence_bert_config.json"
TRANSFORMER_TYPE = "sentence_transformers.base.modules.transformer.Transformer"
MODULE_CONFIG = {
    "transformer_task": "sequence-classification",
    "modality_config": {"text": {"method": "forward", "method_output_name": "logits"}},
    "module_output_name": "scores",
}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")


@dataclass
class SavedSettings:
    """What a folder says beyond the Hugging Face checkpoint."""

    activation_fn_path: str | None = None
    prompts: dict[str, str] = field(default_factory=dict)
    default_prompt_name: str | None = None
    max_length: int | None = None


def read_settings(path: str, config: Any) -> SavedSettings:
    """Activation, prompts and max length from the folder's JSON files and ``config`` (its config.json)."""
    settings = SavedSettings()
    st_config = _read_json(os.path.join(path, ST_CONFIG_FILE)) if os.path.isdir(path) else None
    if os.path.isfile(os.path.join(path, MODULES_FILE)) and not _is_cross_encoder(st_config):
        return settings  # another kind of saved model (an embedding model): its encoder gets a new head
    _check_modules(path)
    if isinstance(st_config, dict):
        settings.activation_fn_path = st_config.get("activation_fn")
        settings.prompts = dict(st_config.get("prompts") or {})
        settings.default_prompt_name = st_config.get("default_prompt_name")
    if settings.activation_fn_path is None:
        block = getattr(config, "sentence_transformers", None)
        if isinstance(block, dict) and block.get("activation_fn"):
            settings.activation_fn_path = block["activation_fn"]
        elif getattr(config, "sbert_ce_default_activation_function", None):
            settings.activation_fn_path = config.sbert_ce_default_activation_function
    module_config = _read_json(os.path.join(path, MODULE_CONFIG_FILE)) if os.path.isdir(path) else None
    if isinstance(module_config, dict) and isinstance(module_config.get("max_seq_length"), int):
        settings.max_length = module_config["max_seq_length"]
    return settings


def _is_cross_encoder(st_config: Any) -> bool:
    """A folder with modules.json is a cross-encoder when its config says so (a SentenceTransformer otherwise)."""
    return isinstance(st_config, dict) and st_config.get("model_type") == "CrossEncoder"


def _check_modules(path: str) -> None:
    """Refuse a folder whose modules.json lists modules beyond one classification Transformer."""
    entries = _read_json(os.path.join(path, MODULES_FILE)) if os.path.isdir(path) else None
    if not isinstance(entries, list) or len(entries) <= 1:
        return
    types = [entry.get("type", "?") for entry in entries if isinstance(entry, dict)]
    raise SentforgeError(
        f"{path!r} is a cross-encoder made of several modules ({', '.join(types)}); sentforge's CrossEncoder "
        "loads single sequence-classification models only. Load it with sentence-transformers instead."
    )


def resolve_activation(path: str | None, trust_remote_code: bool) -> nn.Module | None:
    """The activation a folder names, e.g. "torch.nn.modules.activation.Sigmoid"; None for the default.

    Only torch classes are imported unless ``trust_remote_code`` (as sentence-transformers does).
    """
    if not path:
        return None
    if not (trust_remote_code or path.startswith("torch.")):
        logger.warning(
            "The activation %r saved with this model is not a torch class; using the default activation. "
            "Pass trust_remote_code=True to import it.", path,
        )
        return None
    module_name, _, class_name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, TypeError) as err:
        logger.warning("Could not build the saved activation %r (%s); using the default activation.", path, err)
        return None


def activation_path(activation_fn: Callable | None) -> str | None:
    """``module.Class`` of an activation, as sentence-transformers writes it (functions give their type)."""
    if activation_fn is None:
        return None
    cls = type(activation_fn)
    if not isinstance(activation_fn, nn.Module):
        logger.warning(
            "Saving activation function %r: plain functions cannot be restored from the configuration, so "
            "loading will use the default activation. Use a torch.nn.Module (e.g. nn.Identity()) instead.",
            activation_fn,
        )
    return f"{cls.__module__}.{cls.__name__}"


def refuse_pickle_only(path: str, use_safetensors: bool) -> None:
    """Pickled weights can run code when loaded: refuse a folder that has only those, unless opted in."""
    if not use_safetensors or not os.path.isdir(path):
        return
    names = os.listdir(path)
    has_safe = any(n.endswith(".safetensors") or n == "model.safetensors.index.json" for n in names)
    if not has_safe and any(n.endswith(PICKLE_SUFFIXES) for n in names):
        raise SentforgeError(
            f"The model folder {path!r} holds only pickled weights (.bin/.pt); loading them can run arbitrary "
            "code, so sentforge refuses by default. Convert them to safetensors, or, if you trust the source, "
            "pass CrossEncoder(path, model_kwargs={'use_safetensors': False})."
        )


def write_settings(folder: str, activation: str | None, prompts: dict[str, str], default_prompt_name: str | None,
                   versions: dict[str, str]) -> None:
    """Write modules.json, sentence_bert_config.json and config_sentence_transformers.json as 6.x does."""
    _write_json(os.path.join(folder, MODULES_FILE), [{"idx": 0, "name": "0", "path": "", "type": TRANSFORMER_TYPE}])
    _write_json(os.path.join(folder, MODULE_CONFIG_FILE), MODULE_CONFIG)
    _write_json(
        os.path.join(folder, ST_CONFIG_FILE),
        {
            "__version__": versions,
            "activation_fn": activation,
            "default_prompt_name": default_prompt_name,
            "model_type": "CrossEncoder",
            "prompts": prompts,
        },
    )


def _read_json(path: str) -> Any:
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError) as err:
        raise SentforgeError(f"{path} is not valid JSON ({err}). Restore the file or save the model again.") from err


def _write_json(path: str, data: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
