"""Loading a checkpoint into the native encoder, and turning it into the Hugging Face model later.

``load_native`` takes a local folder with ``config.json``, one float32 ``model.safetensors``
whose keys are exactly the native encoder's, and (optionally) a tokenizer the native
tokenizer can vouch for; anything else returns None and the caller loads through
transformers as before. A checkpoint with missing or unexpected weights thus never loads
here: transformers' loader reports them, and ``Transformer`` turns that report into an error
unless ``MISMATCH_SWITCH`` is set. The folder's small files are kept in memory, so that
transformers' config, model and tokenizer can be built later even if the folder is gone by then.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import SentforgeError
from .int8_linear import Int8Linear
from .native_encoder import NativeEncoder, build_native_encoder, unsupported_reason
from .native_tokenizer import NativeTokenizer, read_json_dict
from .switches import TRICKS, decline, enabled

WEIGHTS_FILE = "model.safetensors"
DISABLE_ENV = TRICKS["native_encoder"].env  # "0": always load through transformers
# model_args key: load a checkpoint whose weights do not match the architecture (missing ones stay random).
MISMATCH_SWITCH = "ignore_mismatched_weights"
_KEPT_FILE_LIMIT = 64 * 1024 * 1024  # tokenizer and config files; weights are never kept
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".gguf")
# Saved by older transformers versions; transformers itself drops them on load (they are rebuilt).
_REBUILT_BUFFERS = ("embeddings.position_ids",)


@dataclass
class NativeCheckpoint:
    """A native encoder, its tokenizer (None: use transformers'), and the folder's small files."""

    encoder: NativeEncoder
    tokenizer: NativeTokenizer | None
    source: str
    files: dict[str, bytes] = field(default_factory=dict, repr=False)

    def folder_copy(self) -> tempfile.TemporaryDirectory:
        """A temporary folder holding the kept files (config, tokenizer)."""
        folder = tempfile.TemporaryDirectory(prefix="sentforge-native-")
        for name, data in self.files.items():
            with open(os.path.join(folder.name, name), "wb") as handle:
                handle.write(data)
        return folder


def native_enabled(options: dict[str, Any]) -> bool:
    """Whether these loading options leave the checkpoint to the native encoder."""
    if not (enabled("native_encoder") and enabled("packed_forward")):  # it runs only through the packed forward
        return False
    model_args = options.get("model_args") or {}
    return (
        not options.get("trust_remote_code")
        and not options.get("config_args")
        and not options.get("tokenizer_args")
        and not options.get("tokenizer_name_or_path")
        and set(model_args) <= {"use_safetensors", MISMATCH_SWITCH}
        and model_args.get("use_safetensors", True) is True
    )


def load_native(folder: str) -> NativeCheckpoint | None:
    """The checkpoint in ``folder`` as a native encoder, or None when transformers must load it."""
    weights = os.path.join(folder, WEIGHTS_FILE)
    config = read_json_dict(os.path.join(folder, "config.json"))
    if config is None or not os.path.isfile(weights):
        return None
    reason = unsupported_reason(config)
    if reason:
        decline("native_encoder", os.path.basename(os.path.normpath(folder)), reason)
        return None
    state = _float32_state(weights)
    if state is None:
        return None
    encoder = build_native_encoder(config)
    expected = encoder.state_dict()
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in state):
        return None  # transformers' loader reports the mismatch; Transformer refuses it unless opted in
    encoder.load_state_dict(state, strict=True, assign=True)
    encoder.eval()  # as transformers' from_pretrained leaves a model
    return NativeCheckpoint(encoder, NativeTokenizer.from_folder(folder), folder, _small_files(folder))


def build_hf_model(checkpoint: NativeCheckpoint, encoder: NativeEncoder) -> nn.Module:
    """transformers' model for the checkpoint, holding ``encoder``'s own Parameter objects."""
    from transformers import AutoConfig, AutoModel

    with checkpoint.folder_copy() as folder:
        config = AutoConfig.from_pretrained(folder)
    config.name_or_path = checkpoint.source
    with torch.device("meta"):
        model = AutoModel.from_config(config)
    _share_tensors(encoder, model)
    model.train(encoder.training)
    return model


def build_hf_tokenizer(checkpoint: NativeCheckpoint):
    """transformers' tokenizer for the checkpoint, from the kept files."""
    from transformers import AutoTokenizer

    with checkpoint.folder_copy() as folder:
        tokenizer = AutoTokenizer.from_pretrained(folder)
    tokenizer.name_or_path = checkpoint.source
    return tokenizer


def _share_tensors(source: nn.Module, target: nn.Module) -> None:
    """Put ``source``'s parameters and buffers into ``target`` under the same names (no copies).

    Int8 layers (from ``quantize_model``) replace ``target``'s Linear layers of the same names.
    """
    for name, module in source.named_modules():
        if isinstance(module, Int8Linear):
            target.set_submodule(name, module)
    for kind in ("_parameters", "_buffers"):
        getter = source.named_parameters if kind == "_parameters" else source.named_buffers
        for name, tensor in getter():
            owner_name, _, leaf = name.rpartition(".")
            owner = target.get_submodule(owner_name)
            getattr(owner, kind)[leaf] = tensor
    left = [n for n, t in (*target.named_parameters(), *target.named_buffers()) if t.is_meta]
    if left:
        raise SentforgeError(
            f"Building the transformers model left {left[:3]} without values. Load this model with "
            f"{DISABLE_ENV}=0 set in the environment, and report the model's config.json."
        )


def _float32_state(path: str) -> dict[str, torch.Tensor] | None:
    """The file's tensors (rebuilt buffers dropped), or None unless every tensor is float32 or int."""
    from safetensors.torch import load_file

    try:
        state = load_file(path)
    except Exception:  # noqa: BLE001 - any unreadable file is left to transformers' loader and its errors
        return None
    for name in _REBUILT_BUFFERS:
        state.pop(name, None)
    if any(t.dtype != torch.float32 for t in state.values()):
        return None
    return state


def _small_files(folder: str) -> dict[str, bytes]:
    files = {}
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or name.endswith(_WEIGHT_SUFFIXES) or os.path.getsize(path) > _KEPT_FILE_LIMIT:
            continue
        with open(path, "rb") as handle:
            files[name] = handle.read()
    return files
