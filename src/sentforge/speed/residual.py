"""The residual sums of the packed forward: ``dropout(dense(x)) + residual``, then LayerNorm.

In inference (no autograd, dropout off, a plain ``nn.Linear``) the sum is built in the memory of
``residual`` by one in-place matrix product, ``residual + bias + x W^T``: no separate copy of the
bias into a fresh output and no second pass for the addition. An int8 layer's output is added
into ``residual`` in place. The packed forwards call these
only with a ``residual`` that nothing reads afterwards (the previous layer's hidden state).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .fast_dropout import dropout, dropout_active
from .int8_linear import Int8Linear
from .switches import enabled


def residual_sum(dense: nn.Module, dropout_module: nn.Module, x: Tensor, residual: Tensor) -> Tensor:
    """``dropout(dense(x)) + residual``; in inference accumulated into ``residual`` itself."""
    if _int8_in_inference(dense, dropout_module, residual):
        return residual.add_(dense(x))
    if not _sums_in_place(dense, dropout_module, x, residual):
        return dropout(dense(x), dropout_module) + residual
    if dense.bias is not None:
        residual.add_(dense.bias)
    return residual.addmm_(x, dense.weight.t())


def residual_output(block: nn.Module, x: Tensor, residual: Tensor) -> Tensor:
    """``LayerNorm(dropout(dense(x)) + residual)``: BERT's and MPNet's output blocks."""
    return block.LayerNorm(residual_sum(block.dense, block.dropout, x, residual))


def _dropout_off(dropout_module: nn.Module) -> bool:
    return not dropout_active(dropout_module)


def _int8_in_inference(dense: nn.Module, dropout_module: nn.Module, residual: Tensor) -> bool:
    return (
        type(dense) is Int8Linear
        and _dropout_off(dropout_module)
        and not torch.is_grad_enabled()
        and residual.dtype == torch.float32
    )


def _sums_in_place(dense: nn.Module, dropout_module: nn.Module, x: Tensor, residual: Tensor) -> bool:
    return (
        type(dense) is nn.Linear
        and _dropout_off(dropout_module)
        and not torch.is_grad_enabled()
        and x.dim() == 2
        and residual.dim() == 2
        and x.dtype == residual.dtype == dense.weight.dtype
        and not torch.is_autocast_enabled(residual.device.type)
        and enabled("fused_residual", residual.device)
    )
