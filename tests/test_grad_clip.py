"""Our gradient clipping must give torch.nn.utils.clip_grad_norm_'s norm and gradients exactly."""

from __future__ import annotations

import pytest
import torch

from sentforge.speed.grad_clip import clip_grad_norm


def _params(scale: float) -> list[torch.nn.Parameter]:
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(shape)) for shape in [(30, 7), (7,), (5, 5, 3)]]
    for p in params:
        p.grad = torch.randn_like(p) * scale
    params.append(torch.nn.Parameter(torch.randn(4)))  # no gradient: left out
    return params


@pytest.mark.parametrize("scale", [1e-3, 10.0])  # below and above max_norm
def test_same_norm_and_gradients_as_torch(scale):
    ours, reference = _params(scale), _params(scale)
    norm = clip_grad_norm(ours, max_norm=1.0)
    expected = torch.nn.utils.clip_grad_norm_(reference, max_norm=1.0)
    assert torch.allclose(norm, expected, rtol=1e-6)
    for a, b in zip(ours, reference):
        assert (a.grad is None and b.grad is None) or torch.allclose(a.grad, b.grad, rtol=1e-6, atol=0)
    clipped = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in ours if p.grad is not None]))
    assert clipped.item() == pytest.approx(min(1.0, expected.item()), rel=1e-4)


def test_no_gradients_gives_zero():
    assert clip_grad_norm([torch.nn.Parameter(torch.ones(2))], 1.0).item() == 0.0
