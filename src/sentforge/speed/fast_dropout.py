"""Dropout with a cheaper random mask on CPU, for the packed forward.

torch's CPU ``bernoulli_`` draws one 32-bit random number per element; on a small encoder it
takes about a tenth of a training step. Here one 64-bit draw gives four 16-bit numbers, each
kept with probability ``1 - p`` (to within 2**-16), so the mask costs a third as much. Same
distribution, same scaling by ``1 / (1 - p)``; on other devices ``nn.Dropout`` runs as usual.
For the backward pass only the boolean mask is kept (a float mask would take four times as much).

``no_dropout()`` switches dropout off for the calling thread only, whatever the modules' train/eval
mode: ``encode`` runs under it, so it never has to flip the mode of a model other threads may use.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.overrides import TorchFunctionMode

from .switches import enabled

_INT16_VALUES = 1 << 16
_INT16_MIN = -(1 << 15)

# True inside ``no_dropout()``; a context variable, so each thread (and task) has its own.
_DROPOUT_OFF: ContextVar[bool] = ContextVar("sentforge_dropout_off", default=False)
_IDENTITY_DROPOUTS = (
    F.dropout, F.dropout1d, F.dropout2d, F.dropout3d, F.alpha_dropout, F.feature_alpha_dropout,
    torch.dropout, torch.feature_dropout, torch.alpha_dropout, torch.feature_alpha_dropout,
)
# attention functions -> position of their ``dropout_p`` argument
_ATTENTION_DROPOUT_ARG = {F.scaled_dot_product_attention: 4, F.multi_head_attention_forward: 10}


def keep_mask(shape: torch.Size, p: float, device: torch.device) -> Tensor:
    """Boolean mask of ``shape``, each element True with probability ``1 - p``."""
    count = 1
    for size in shape:
        count *= size
    words = torch.empty((count + 3) // 4, dtype=torch.int64, device=device).random_(-(1 << 63), None)
    values = words.view(torch.int16)[:count].view(shape)  # uniform over all 2**16 int16 values
    return values >= _INT16_MIN + round(p * _INT16_VALUES)


def dropout_active(module: nn.Module) -> bool:
    """Whether ``module`` (a dropout layer) drops anything here: in training mode, ``p > 0``, and
    not inside ``no_dropout()``."""
    return module.training and float(getattr(module, "p", 0.0)) > 0.0 and not _DROPOUT_OFF.get()


@contextmanager
def no_dropout(model: nn.Module | None = None) -> Iterator[None]:
    """No dropout in this thread inside the block; no module's ``training`` flag is touched.

    The packed forward reads the flag itself. When ``model`` has modules in training mode, the
    functional dropout calls of other code (the Hugging Face forward, custom modules) are made
    identities too, for this thread only (a torch function mode is per thread).
    """
    token = _DROPOUT_OFF.set(True)
    needs_mode = model is not None and any(m.training for m in model.modules())
    try:
        with _FunctionalDropoutOff() if needs_mode else nullcontext():
            yield
    finally:
        _DROPOUT_OFF.reset(token)


class _FunctionalDropoutOff(TorchFunctionMode):
    """torch's functional dropouts as identities, and attention without dropout."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if func in _IDENTITY_DROPOUTS:
            return args[0] if args else kwargs["input"]
        position = _ATTENTION_DROPOUT_ARG.get(func)
        if position is not None and len(args) > position:
            args = (*args[:position], 0.0, *args[position + 1 :])
        elif position is not None:
            kwargs["dropout_p"] = 0.0
        return func(*args, **kwargs)


def dropout(x: Tensor, module: nn.Module) -> Tensor:
    """What ``module`` (an ``nn.Dropout``) computes for ``x``, with the cheaper mask on CPU."""
    if not dropout_active(module):
        return x
    p = float(module.p)
    if not enabled("fast_dropout", x.device) or p >= 1.0 or type(module) is not nn.Dropout:
        return module(x)
    keep = keep_mask(x.shape, p, x.device)
    if not (torch.is_grad_enabled() and x.requires_grad):
        return x * keep.to(x.dtype).mul_(1.0 / (1.0 - p))
    return _KeptScaled.apply(x, keep, 1.0 / (1.0 - p))


class _KeptScaled(torch.autograd.Function):
    """``x * keep * scale`` that saves the boolean mask (1 byte per element, not a float mask)."""

    @staticmethod
    def forward(ctx, x: Tensor, keep: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(keep)
        ctx.scale = scale
        return x * keep.to(x.dtype).mul_(scale)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (keep,) = ctx.saved_tensors
        return grad * keep.to(grad.dtype).mul_(ctx.scale), None, None

