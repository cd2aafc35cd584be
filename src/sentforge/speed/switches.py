"""One switch per speed trick: an argument (``configure`` / ``switched``) and an environment variable.

Every trick gives the same results as the plain path it replaces (within float rounding). Each one
is on by default where it was measured to help, and only there: the CPU tunings (the 512-token
chunks, the training attention, zero pages, ...) never run on another device, nor under CPU
mixed precision (``bf16=True``, ``torch.autocast("cpu")``), whatever the switches say. A switch
can turn a trick off; it cannot turn one on where its device rule says no.

    SENTFORGE_PACKED_FORWARD=0 sentforge train ...          # environment: 0/false/off or 1/true/on
    sentforge.speed.configure(fast_dropout=False)            # process-wide, overrides the environment
    with sentforge.speed.switched(token_chunks=False): ...   # for one block

``decline`` logs, once per model kind and reason, why a fast path does not run on a model.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

logger = logging.getLogger("sentforge.speed")

ALL_DEVICES = ("cpu", "cuda", "mps", "xpu")
CPU = ("cpu",)


@dataclass(frozen=True)
class Trick:
    """A speed trick: its switch name, environment variable, the device types it runs on, and what it does."""

    name: str
    env: str
    devices: tuple[str, ...]
    what: str


TRICKS: dict[str, Trick] = {trick.name: trick for trick in (
    Trick("packed_forward", "SENTFORGE_PACKED_FORWARD", ALL_DEVICES,
          "BERT/MPNet forward on the real tokens only (no padding), attention through SDPA"),
    Trick("token_chunks", "SENTFORGE_TOKEN_CHUNKS", CPU,
          "the packed forward in groups of about 512 real tokens, so activations stay in the CPU caches"),
    Trick("native_encoder", "SENTFORGE_NATIVE_ENCODER", ALL_DEVICES,
          "load a local BERT/MPNet safetensors checkpoint without importing transformers"),
    Trick("native_tokenizer", "SENTFORGE_NATIVE_TOKENIZER", ALL_DEVICES,
          "tokenize with the Rust tokenizer directly (until transformers' tokenizer is changed)"),
    Trick("attention_groups", "SENTFORGE_ATTENTION_GROUPS", CPU,
          "training attention per group of similar sentence lengths, not padded to the longest"),
    Trick("training_attention", "SENTFORGE_TRAINING_ATTENTION", CPU,
          "training attention written out (head-major buffers, boolean dropout masks) instead of SDPA"),
    Trick("fast_dropout", "SENTFORGE_FAST_DROPOUT", CPU,
          "dropout with a boolean keep-mask (1 byte per value saved for backward)"),
    Trick("fused_feed_forward", "SENTFORGE_FUSED_FEED_FORWARD", CPU,
          "GELU in place at inference, recomputed in backward when training"),
    Trick("fused_residual", "SENTFORGE_FUSED_RESIDUAL", CPU,
          "output projection and residual sum in one addmm at inference"),
    Trick("scratch_buffers", "SENTFORGE_SCRATCH_BUFFERS", CPU,
          "reused per-thread buffers for training temporaries (less heap fragmentation)"),
    Trick("embedding_rows", "SENTFORGE_EMBEDDING_ROWS", CPU,
          "word-embedding gradients that keep only the rows a batch used"),
    Trick("zero_pages", "SENTFORGE_ZERO_PAGES", CPU,
          "word-embedding gradient buffers cleared by handing their pages back to the OS"),
    Trick("row_adamw", "SENTFORGE_ROW_ADAMW", CPU,
          "AdamW moments for the used word-embedding rows only (torch's AdamW state on save)"),
    Trick("grad_clip", "SENTFORGE_GRAD_CLIP", CPU,
          "gradient-norm clipping in a few foreach calls, reading only the used embedding rows"),
)}
"""The tricks, by switch name. ``Int8Linear`` is not here: int8 weights are the user's choice
(``--precision int8`` / ``quantize_weights``), never applied on their own."""

_OFF = {"0", "false", "off", "no"}
_ON = {"1", "true", "on", "yes"}
_overrides: dict[str, bool] = {}
_lock = threading.Lock()
_declined: set[tuple[str, str, str]] = set()


def enabled(name: str, device: Any = None) -> bool:
    """Whether trick ``name`` may run (on ``device``: a torch.device, a tensor's device or a type string)."""
    trick = TRICKS[name]
    if device is not None and _device_type(device) not in trick.devices:
        return False
    if trick.devices == CPU and torch.is_autocast_enabled("cpu"):
        return False  # measured and written for float32: under bf16/fp16 autocast the standard path runs
    setting = _overrides.get(name)
    if setting is None:
        setting = _env_setting(trick)
    return setting


def configure(**switches: bool | None) -> None:
    """Turn tricks on (True) or off (False) for this process; None goes back to the environment variable."""
    _check_names(switches)
    with _lock:
        for name, value in switches.items():
            if value is None:
                _overrides.pop(name, None)
            else:
                _overrides[name] = bool(value)


@contextmanager
def switched(**switches: bool | None) -> Iterator[None]:
    """``configure(**switches)`` for the ``with`` block, then the settings as they were."""
    _check_names(switches)
    saved = {name: _overrides.get(name) for name in switches}
    configure(**switches)
    try:
        yield
    finally:
        configure(**saved)


def settings(device: Any = None) -> dict[str, bool]:
    """Every trick's state now (on ``device`` when given)."""
    return {name: enabled(name, device) for name in TRICKS}


def decline(name: str, subject: str, reason: str) -> None:
    """Log, once per (trick, subject, reason), that a fast path does not run and why."""
    key = (name, subject, reason)
    if key in _declined:
        return
    _declined.add(key)
    logger.info("sentforge speed: %s does not run on %s (%s); the standard path runs instead.", name, subject, reason)


def _env_setting(trick: Trick) -> bool:
    raw = os.environ.get(trick.env)
    if raw is None or raw.strip() == "":
        return True
    value = raw.strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    logger.warning("%s=%r is not one of 0/1, false/true, off/on; %s stays on.", trick.env, raw, trick.name)
    return True


def _device_type(device: Any) -> str:
    if isinstance(device, str):
        return device.split(":", 1)[0]
    return str(getattr(device, "type", device))


def _check_names(switches: dict[str, Any]) -> None:
    unknown = sorted(set(switches) - set(TRICKS))
    if unknown:
        from ..errors import SentforgeError

        raise SentforgeError(f"Unknown speed switch {', '.join(unknown)}. The switches are: {', '.join(TRICKS)}.")
