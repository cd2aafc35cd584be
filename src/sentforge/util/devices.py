"""Check a device name (and what it can do) given on the command line before any model is loaded."""

from __future__ import annotations

import torch

from ..errors import SentforgeError


def checked_device(name: str | None, option: str = "--device") -> str | None:
    """``name`` when torch can use it here (None stays None: the default device); else one clear error."""
    if name is None:
        return None
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as error:
        raise SentforgeError(
            f"{option} {name!r} is not a device name torch knows ({error}). Use cpu, cuda, cuda:N or mps."
        ) from None
    available = {
        "cuda": torch.cuda.is_available,
        "mps": lambda: hasattr(torch.backends, "mps") and torch.backends.mps.is_available(),
    }
    if device.type in available and not available[device.type]():
        raise SentforgeError(f"{option} {name}: this machine has no {device.type} device. Use cpu, or leave "
                             f"{option} out to take the best device there is.")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise SentforgeError(f"{option} {name}: there are {torch.cuda.device_count()} CUDA devices (0 to "
                             f"{torch.cuda.device_count() - 1}).")
    return name


def check_bf16_support(device: str | None, option: str = "--bf16") -> None:
    """Refuse bfloat16 on a GPU without bfloat16 arithmetic (``device`` None: cuda when there is one)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_bf16_supported():
        raise SentforgeError(f"{option}: {device} has no bfloat16 support; train without {option}.")
