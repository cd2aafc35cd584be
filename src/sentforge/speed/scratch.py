"""Reused scratch memory for the temporaries of sentforge's own autograd steps.

A training step's attention and feed-forward temporaries (score matrices, padded Q/K/V,
products that are consumed right away) are large and change size with every batch. Allocated
fresh each time, they leave the C allocator's heap fragmented: freed blocks of one step's sizes
rarely fit the next step's, and the process keeps growing. Here each kind of temporary has one
buffer per thread, grown when a batch needs more and otherwise reused, so those allocations stop.

Only for values that never leave the function that asked for them: nothing returned to
autograd or saved for the backward pass may be a scratch view.
"""

from __future__ import annotations

import threading

import torch
from torch import Tensor

from .switches import enabled

_GROWTH = 1.25  # a grown buffer gets a quarter more room than asked, so it rarely grows again


class _Buffers(threading.local):
    def __init__(self) -> None:
        self.by_name: dict[str, Tensor] = {}


_BUFFERS = _Buffers()


def scratch(name: str, shape: tuple[int, ...], like: Tensor) -> Tensor:
    """An uninitialised ``shape`` tensor (``like``'s dtype and device) in the buffer ``name``."""
    if not enabled("scratch_buffers", like.device):
        return torch.empty(shape, dtype=like.dtype, device=like.device)
    count = 1
    for size in shape:
        count *= size
    buffer = _BUFFERS.by_name.get(name)
    if buffer is None or buffer.numel() < count or buffer.dtype != like.dtype or buffer.device != like.device:
        buffer = torch.empty(int(count * _GROWTH) + 1, dtype=like.dtype, device=like.device)
        _BUFFERS.by_name[name] = buffer
    return buffer[:count].view(shape)


def release() -> None:
    """Free this thread's scratch buffers (they are made again when next needed)."""
    _BUFFERS.by_name.clear()
