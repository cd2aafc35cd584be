"""The residual sums of the packed forward: the in-place inference path equals the plain sum.

Reference: ``dropout(dense(x)) + residual`` computed with separate torch ops. Tolerance 1e-6 max
abs difference (fp32; the in-place product adds bias, residual and x W^T in another order).
"""

from __future__ import annotations

import torch
from torch import nn

from sentforge.speed.residual import residual_sum

TOL = 1e-6


def _inputs(tokens: int = 23, width: int = 16):
    torch.manual_seed(0)
    dense = nn.Linear(width * 2, width)
    return dense, nn.Dropout(0.1), torch.randn(tokens, width * 2), torch.randn(tokens, width)


def test_inference_sum_is_built_in_the_residual_memory():
    dense, drop, x, residual = _inputs()
    drop.eval()
    expected = dense(x).detach() + residual
    with torch.inference_mode():
        got = residual_sum(dense, drop, x, residual)
    assert got.data_ptr() == residual.data_ptr()
    assert (got - expected).abs().max().item() < TOL


def test_training_sum_leaves_the_residual_alone_and_has_gradients():
    dense, drop, x, residual = _inputs()
    drop.eval()
    before = residual.clone()
    got = residual_sum(dense, drop, x, residual)
    got.sum().backward()
    assert torch.equal(residual, before)
    assert dense.weight.grad is not None and dense.weight.grad.abs().sum() > 0


def test_active_dropout_or_autocast_takes_the_plain_sum():
    dense, drop, x, residual = _inputs()
    before = residual.clone()
    with torch.no_grad():
        dropped = residual_sum(dense, drop.train(), x, residual)  # dropout on: some outputs zeroed
        with torch.autocast("cpu", dtype=torch.bfloat16):
            mixed = residual_sum(dense, drop.eval(), x, residual)
    assert torch.equal(residual, before)
    assert dropped.data_ptr() != residual.data_ptr() and mixed.data_ptr() != residual.data_ptr()
    assert mixed.dtype == torch.float32 and (mixed - (dense(x) + residual)).abs().max().item() < 0.1
