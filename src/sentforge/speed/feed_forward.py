"""The feed-forward block of the packed forward, with GELU recomputed in the backward pass.

``output.dense(gelu(intermediate.dense(x)))`` as separate ops keeps two [tokens, 4 * hidden]
tensors for the backward pass: GELU's input and its output (the input of ``output.dense``).
In training, when the activation is exact GELU and ``output.dense`` a plain ``nn.Linear``, one
autograd step keeps only GELU's input and recomputes GELU in the backward pass (a cheap
element-wise op), which halves the largest activations of the step. Values are the same ops.

GELU and its gradient run on ATen's own kernels, not oneDNN's: oneDNN compiles and caches one
kernel per tensor shape, and with every batch's token count a new shape, its cache fills with
thousands of small long-lived allocations scattered through the heap. Those pin the freed
activation blocks apart, and a full STS-B epoch ended with about 100 MB more resident memory.

In inference (no autograd) exact GELU runs in place on ``intermediate.dense``'s output (a plain or
an int8 Linear), still on oneDNN: no second [tokens, 4 * hidden] tensor to allocate and fill (same values, bit for bit).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .fast_dropout import dropout
from .int8_linear import Int8Linear
from .residual import residual_output
from .scratch import scratch
from .switches import enabled

# Intermediate blocks whose forward is ``intermediate_act_fn(dense(x))``.
_INTERMEDIATE_CLASSES = ("BertIntermediate", "MPNetIntermediate", "_Intermediate")


class _GeluThenLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, pre_activation: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(pre_activation, weight)
        ctx.has_bias = bias is not None
        return F.linear(_gelu(pre_activation, "feed_forward.activation"), weight, bias)

    @staticmethod
    def backward(ctx, grad: Tensor):
        pre_activation, weight = ctx.saved_tensors
        grad_2d = grad.reshape(-1, grad.shape[-1])
        grad_weight = grad_bias = None
        if ctx.needs_input_grad[1]:
            activation = _gelu(pre_activation, "feed_forward.activation")
            grad_weight = grad_2d.t().mm(activation.reshape(-1, activation.shape[-1]))
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad_2d.sum(0)
        grad_input = None
        if ctx.needs_input_grad[0]:
            shape = (*grad.shape[:-1], weight.shape[1])
            grad_activation = torch.matmul(grad, weight, out=scratch("feed_forward.grad_product", shape, grad))
            with _aten_kernels():
                grad_input = torch.ops.aten.gelu_backward(grad_activation, pre_activation)
        return grad_input, grad_weight, grad_bias


def _gelu(values: Tensor, name: str) -> Tensor:
    """Exact GELU of ``values`` into the scratch buffer ``name`` (consumed right away)."""
    with _aten_kernels():
        return torch._C._nn.gelu(values, out=scratch(name, tuple(values.shape), values))


@contextmanager
def _aten_kernels() -> Iterator[None]:
    """oneDNN switched off for the ops inside (see the module docstring)."""
    enabled = torch._C._get_mkldnn_enabled()
    torch._C._set_mkldnn_enabled(False)
    try:
        yield
    finally:
        torch._C._set_mkldnn_enabled(enabled)


def _is_exact_gelu(activation: nn.Module) -> bool:
    if type(activation) is nn.GELU:
        return activation.approximate == "none"
    return type(activation).__name__ == "GELUActivation" and getattr(activation, "act", None) is F.gelu


def _gelu_intermediate(intermediate: nn.Module) -> bool:
    """``intermediate`` computes ``exact_gelu(dense(x))`` (the blocks listed above)."""
    return type(intermediate).__name__ in _INTERMEDIATE_CLASSES and _is_exact_gelu(
        getattr(intermediate, "intermediate_act_fn", None)
    )


def _gelu_in_place(intermediate: nn.Module) -> bool:
    """Inference, with a dense layer known to return a fresh tensor (not a view of its input)."""
    return (
        not torch.is_grad_enabled()
        and _gelu_intermediate(intermediate)
        and type(getattr(intermediate, "dense", None)) in (nn.Linear, Int8Linear)
    )


def _recomputes_gelu(intermediate: nn.Module, dense: nn.Module) -> bool:
    return (
        torch.is_grad_enabled()
        and _gelu_intermediate(intermediate)
        and type(dense) is nn.Linear
        and enabled("fused_feed_forward", dense.weight.device)
    )


def feed_forward(intermediate: nn.Module, output: nn.Module, hidden: Tensor) -> Tensor:
    """``output.LayerNorm(dropout(output.dense(intermediate(hidden))) + hidden)``."""
    if _gelu_in_place(intermediate) and enabled("fused_feed_forward", hidden.device):
        return residual_output(output, torch._C._nn.gelu_(intermediate.dense(hidden)), hidden)
    if not _recomputes_gelu(intermediate, output.dense):
        return residual_output(output, intermediate(hidden), hidden)
    dense = output.dense
    projected = _GeluThenLinear.apply(intermediate.dense(hidden), dense.weight, dense.bias)
    return output.LayerNorm(dropout(projected, output.dropout) + hidden)
