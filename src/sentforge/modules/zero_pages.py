"""Mostly-zero CPU tensors that hold memory only where they were written.

A word-embedding gradient has the weight's full size (47 MB for MiniLM), but a step writes a few
hundred of its rows. Filled with zeros by torch, every page of it is resident for the whole run.
On Linux this buffer is instead a private anonymous mapping: untouched pages read as zeros
without taking memory, and ``clear()`` hands all pages back to the kernel in one ``madvise``
call, after which they read as zeros again. Elsewhere it is an ordinary zero-filled tensor.
"""

from __future__ import annotations

import mmap
import sys

import torch
from torch import Tensor

_MAPS_ZERO_PAGES = sys.platform.startswith("linux") and hasattr(mmap, "MADV_DONTNEED")


class ZeroPageBuffer:
    """A zero tensor shaped like ``like`` (CPU), cleared back to zeros in one call."""

    def __init__(self, like: Tensor) -> None:
        nbytes = like.numel() * like.element_size()
        self.mapping: mmap.mmap | None = None
        if _MAPS_ZERO_PAGES and like.device.type == "cpu" and nbytes > 0:
            self.mapping = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
            # the tensor holds the mapping's buffer: the mapping cannot close while the tensor lives
            self.tensor = torch.frombuffer(self.mapping, dtype=like.dtype).view(like.shape)
        else:
            self.tensor = torch.zeros_like(like, memory_format=torch.contiguous_format)

    @property
    def maps_zero_pages(self) -> bool:
        """True when untouched and cleared pages take no memory (Linux)."""
        return self.mapping is not None

    def clear(self, rows: list[Tensor] | None = None) -> None:
        """Zero the tensor; without zero pages only ``rows`` (all written rows, if given) are zeroed."""
        if self.mapping is not None:
            self.mapping.madvise(mmap.MADV_DONTNEED)
        elif rows is not None:
            self.tensor.index_fill_(0, torch.cat(rows), 0.0)
        else:
            self.tensor.zero_()
