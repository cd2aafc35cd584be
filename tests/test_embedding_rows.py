"""Kept word-embedding gradients: the same values as torch's dense gradient, one reused buffer."""

from __future__ import annotations

import copy

import torch
from torch import nn

from sentforge.speed.embedding_rows import lookup
from sentforge.speed.grad_clip import clip_grad_norm

BATCHES = [torch.tensor([[3, 5, 5, 0], [7, 3, 0, 0]]), torch.tensor([[9, 11, 2, 1]]), torch.tensor([[4, 4, 4, 0]])]


def _pair() -> tuple[nn.Embedding, nn.Embedding]:
    torch.manual_seed(0)
    ours = nn.Embedding(16, 6, padding_idx=0)
    return ours, copy.deepcopy(ours)


def _backward(embedding: nn.Embedding, ids: torch.Tensor, kept: bool) -> None:
    out = lookup(embedding, ids) if kept else embedding(ids)
    weights = torch.arange(out.numel(), dtype=out.dtype).reshape(out.shape) / out.numel()
    (out * weights).sum().backward()


def test_gradients_equal_the_dense_gradient_step_after_step():
    ours, reference = _pair()
    buffers = set()
    for ids in BATCHES:
        _backward(ours, ids, kept=True)
        _backward(reference, ids, kept=False)
        assert torch.allclose(ours.weight.grad, reference.weight.grad, atol=1e-7)
        assert not ours.weight.grad[0].any()  # the padding row gets no gradient, as in torch
        buffers.add(ours.weight.grad.data_ptr())
        ours.zero_grad(set_to_none=True)
        reference.zero_grad(set_to_none=True)
    assert len(buffers) == 1  # one buffer, reused: no allocation per step


def test_accumulation_and_zeroing_in_place_match_torch():
    ours, reference = _pair()
    for ids in BATCHES[:2]:  # two micro-batches accumulate
        _backward(ours, ids, kept=True)
        _backward(reference, ids, kept=False)
    assert torch.allclose(ours.weight.grad, reference.weight.grad, atol=1e-7)
    ours.zero_grad(set_to_none=False)
    reference.zero_grad(set_to_none=False)
    _backward(ours, BATCHES[2], kept=True)
    _backward(reference, BATCHES[2], kept=False)
    assert torch.allclose(ours.weight.grad, reference.weight.grad, atol=1e-7)


def test_clipping_a_kept_gradient_matches_torch_clipping():
    ours, reference = _pair()
    linear = nn.Linear(6, 1)
    twin = copy.deepcopy(linear)
    for embedding, head, kept in ((ours, linear, True), (reference, twin, False)):
        for ids in BATCHES[:2]:
            embedding.zero_grad(set_to_none=True)
            head.zero_grad(set_to_none=True)
            out = lookup(embedding, ids) if kept else embedding(ids)
            head(out).pow(2).sum().backward()
    norm = clip_grad_norm([*ours.parameters(), *linear.parameters()], max_norm=0.01)
    expected = torch.nn.utils.clip_grad_norm_([*reference.parameters(), *twin.parameters()], max_norm=0.01)
    assert abs(float(norm) - float(expected)) < 1e-6 * float(expected)  # float32 summation order
    assert torch.allclose(ours.weight.grad, reference.weight.grad, atol=1e-8)
    assert torch.allclose(linear.weight.grad, twin.weight.grad, atol=1e-8)


def test_weights_with_hooks_and_no_grad_lookups_use_torch_as_is():
    ours, _ = _pair()
    seen = []
    ours.weight.register_hook(lambda grad: seen.append(grad.shape) or grad)
    _backward(ours, BATCHES[0], kept=True)
    assert seen == [ours.weight.shape]  # the hook ran: torch's own backward
    with torch.no_grad():
        assert not lookup(ours, BATCHES[0]).requires_grad
