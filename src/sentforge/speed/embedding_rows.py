"""Word-embedding lookups whose gradient lands in one kept buffer, touching only the used rows.

The dense gradient of a word embedding (30,522 x 384 floats for MiniLM, 47 MB) is almost all
zeros: a batch uses a few hundred rows. torch allocates and zero-fills a fresh one on every
backward; a block that size is mapped from the OS each time, so every step also pays ~12,000
page faults. Here the gradient is one buffer kept for the weight: each step only the rows the
previous step wrote are zeroed again and the batch's rows are added in (``index_add_``, as
torch's own CPU embedding backward). Values are the same as the dense gradient. On Linux the
buffer takes memory only for pages recent steps wrote, at most a quarter of it (``zero_pages.py``).

Only for plain training steps on CPU: not under ``torch.distributed`` (DDP reduces gradients
through autograd hooks this path bypasses), not for weights with gradient hooks, and not for
embeddings with ``max_norm``, ``scale_grad_by_freq`` or ``sparse``.
"""

from __future__ import annotations

import weakref

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .zero_pages import ZeroPageBuffer
from .switches import enabled


class _RowGradientState:
    """The kept gradient buffer of one weight and the rows written into it since it was zeroed."""

    def __init__(self) -> None:
        self.buffer: Tensor | None = None
        self._pages: ZeroPageBuffer | None = None  # holds ``buffer``'s memory
        self.rows: list[Tensor] = []
        self._unique: Tensor | None = None  # torch.unique of ``rows``, asked for by clipping and AdamW

    def gradient_for(self, weight: Tensor) -> Tensor:
        """``weight.grad``, set to the kept buffer (zeroed where it was written) if there is none."""
        if weight.grad is not None:
            return weight.grad
        if self.buffer is None or self.buffer.shape != weight.shape or self.buffer.dtype != weight.dtype:
            self._pages = ZeroPageBuffer(weight)
            self.buffer, self.rows, self._unique = self._pages.tensor, [], None
        elif self.rows:
            self._pages.clear(self.rows)
            self.rows, self._unique = [], None
        weight.grad = self.buffer
        return self.buffer

    def add(self, weight: Tensor, rows: Tensor, values: Tensor) -> None:
        grad = self.gradient_for(weight)
        if grad is self.buffer:
            self.rows.append(rows)
            self._unique = None
        grad.index_add_(0, rows, values.to(grad.dtype))

    def written_rows(self, grad: Tensor) -> Tensor | None:
        """The rows of ``grad`` that can be non-zero, when ``grad`` is the kept buffer; else None."""
        if grad is not self.buffer or not self.rows:
            return None
        if self._unique is None:
            self._unique = torch.unique(torch.cat(self.rows))
        return self._unique


# id(weight) -> state; an entry goes when its weight is garbage-collected. (A WeakKeyDictionary
# would compare tensors with ``==``, which is elementwise.)
_STATES: dict[int, _RowGradientState] = {}


def _state(weight: Tensor) -> _RowGradientState:
    state = _STATES.get(id(weight))
    if state is None:
        state = _STATES[id(weight)] = _RowGradientState()
        weakref.finalize(weight, _STATES.pop, id(weight), None)
    return state


class _EmbeddingRows(torch.autograd.Function):
    @staticmethod
    def forward(ctx, weight: Tensor, ids: Tensor, padding_idx: int | None) -> Tensor:
        ctx.weight, ctx.padding_idx = weight, padding_idx
        ctx.save_for_backward(ids)
        return F.embedding(ids, weight)

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        (ids,) = ctx.saved_tensors
        rows, values = ids.reshape(-1), grad_output.reshape(-1, grad_output.shape[-1])
        if ctx.padding_idx is not None:
            keep = rows != ctx.padding_idx
            rows, values = rows[keep], values[keep]
        _state(ctx.weight).add(ctx.weight, rows, values)
        return None, None, None


def lookup(embedding: nn.Module, ids: Tensor) -> Tensor:
    """``embedding(ids)``; in CPU training steps with the gradient kept as described above."""
    weight = getattr(embedding, "weight", None)
    if not _row_gradient_applies(embedding, weight, ids):
        return embedding(ids)
    return _EmbeddingRows.apply(weight, ids, embedding.padding_idx)


def written_rows(grad: Tensor, weight: Tensor) -> Tensor | None:
    """For gradient clipping: the only rows of ``weight``'s gradient that can be non-zero, if known."""
    state = _STATES.get(id(weight))
    return None if state is None else state.written_rows(grad)


def _row_gradient_applies(embedding: nn.Module, weight: Tensor | None, ids: Tensor) -> bool:
    if type(embedding) is not nn.Embedding or weight is None or not weight.requires_grad:
        return False
    if not torch.is_grad_enabled() or not enabled("embedding_rows", weight.device) or ids.device.type != "cpu":
        return False
    if embedding.max_norm is not None or embedding.scale_grad_by_freq or embedding.sparse:
        return False
    if weight._backward_hooks or getattr(weight, "_post_accumulate_grad_hooks", None):
        return False
    return not (torch.distributed.is_available() and torch.distributed.is_initialized())
