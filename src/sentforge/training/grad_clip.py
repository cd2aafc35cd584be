"""Gradient-norm clipping in a few calls instead of two per parameter.

Same result as ``torch.nn.utils.clip_grad_norm_`` (2-norm over all gradients, scaled by
``max_norm / (norm + 1e-6)`` when that is below 1). On CPU, torch computes one norm and one
multiply per parameter, and multiplies even when the factor is 1; here the norms are one
``_foreach_norm`` and the gradients are only touched when they really are clipped.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor


def clip_grad_norm(parameters: Iterable[Tensor], max_norm: float) -> Tensor:
    """Clip the gradients of ``parameters`` in place to 2-norm ``max_norm``; return the norm before."""
    with_grads = [p for p in parameters if p.grad is not None]
    grads = [p.grad for p in with_grads]
    if not grads:
        return torch.tensor(0.0)
    if any(g.is_sparse or g.device != grads[0].device or g.dtype != grads[0].dtype for g in grads):
        return torch.nn.utils.clip_grad_norm_(with_grads, max_norm)  # rare: mixed gradients
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads, 2.0)), 2.0)
    coefficient = max_norm / (total + 1e-6)
    if bool(coefficient < 1.0):
        torch._foreach_mul_(grads, coefficient)
    return total
