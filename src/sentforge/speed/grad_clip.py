"""Gradient-norm clipping in a few calls instead of two per parameter.

Same result as ``torch.nn.utils.clip_grad_norm_`` (2-norm over all gradients, scaled by
``max_norm / (norm + 1e-6)`` when that is below 1). On CPU, torch computes one norm and one
multiply per parameter, and multiplies even when the factor is 1; here the norms are one
``_foreach_norm`` and the gradients are only touched when they really are clipped; of a kept
word-embedding gradient (``speed/embedding_rows.py``) only the rows a batch wrote are read.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from .embedding_rows import written_rows


def clip_grad_norm(parameters: Iterable[Tensor], max_norm: float) -> Tensor:
    """Clip the gradients of ``parameters`` in place to 2-norm ``max_norm``; return the norm before."""
    with_grads = [p for p in parameters if p.grad is not None]
    grads = [p.grad for p in with_grads]
    if not grads:
        return torch.tensor(0.0)
    if any(g.is_sparse or g.device != grads[0].device or g.dtype != grads[0].dtype for g in grads):
        return torch.nn.utils.clip_grad_norm_(with_grads, max_norm)  # rare: mixed gradients
    rows = [written_rows(g, p) for p, g in zip(with_grads, grads)]
    dense = [g for g, r in zip(grads, rows) if r is None]
    norms = list(torch._foreach_norm(dense, 2.0)) if dense else []
    norms += [torch.linalg.vector_norm(g.index_select(0, r), 2.0) for g, r in zip(grads, rows) if r is not None]
    total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
    coefficient = max_norm / (total + 1e-6)
    if bool(coefficient < 1.0):
        if dense:
            torch._foreach_mul_(dense, coefficient)
        for g, r in zip(grads, rows):
            if r is not None:  # a kept embedding gradient: only these rows are non-zero
                g.index_copy_(0, r, g.index_select(0, r) * coefficient)
    return total
