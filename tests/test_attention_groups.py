"""Training attention by length groups: same values and gradients as one padded buffer."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from sentforge.speed import attention_groups
from sentforge.speed.attention_groups import length_groups
from sentforge.speed.packed_forward import packed_forward
from test_packed_forward import pad_id_of, tiny_bert

LENGTHS = [3, 40, 5, 38, 4, 6, 36, 7, 2, 39, 5, 8]


def _batch(pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(3)
    ids = torch.randint(5, 60, (len(LENGTHS), max(LENGTHS)))
    mask = (torch.arange(max(LENGTHS))[None, :] < torch.tensor(LENGTHS)[:, None]).long()
    return ids.masked_fill(mask == 0, pad_id), mask


def _forward_and_grads(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor):
    model.zero_grad()
    out = packed_forward(model, ids, mask)
    (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
    return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_groups_cover_every_sentence_once_and_cut_the_padding():
    groups = length_groups(LENGTHS, head_dim=8)
    assert groups is not None and 2 <= len(groups) <= attention_groups.MAX_GROUPS
    assert sorted(i for g in groups for i in g) == list(range(len(LENGTHS)))
    longest = [max(LENGTHS[i] for i in g) for g in groups]
    assert longest == sorted(longest)  # short sentences together, long ones together
    assert length_groups([10, 11, 10, 12], head_dim=8) is None  # similar lengths: one buffer


def test_grouped_training_attention_equals_one_buffer(monkeypatch):
    """Dropout on (p tiny, so no value is dropped) takes the training path; with MIN_SAVING above 1 it
    never splits. Outputs and gradients agree to float rounding (1e-5)."""
    model = tiny_bert(dropout=1e-12).train()
    ids, mask = _batch(pad_id_of(model))
    grouped, grouped_grads = _forward_and_grads(model, ids, mask)
    monkeypatch.setattr(attention_groups, "MIN_SAVING", 2.0)
    single, single_grads = _forward_and_grads(model, ids, mask)
    real = mask.bool()
    assert (grouped - single)[real].abs().max() < 1e-5
    assert grouped_grads.keys() == single_grads.keys()
    for name, grad in single_grads.items():
        assert (grouped_grads[name] - grad).norm() <= 1e-5 * grad.norm() + 1e-8, name


@pytest.mark.parametrize("p", [0.3])
def test_grouped_training_attention_still_drops(p):
    model = tiny_bert(dropout=0.0).train()
    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout) and "attention.self" in name:
            module.p = p
    ids, mask = _batch(pad_id_of(model))
    first, second = packed_forward(model, ids, mask), packed_forward(model, ids, mask)
    assert (first - second)[mask.bool()].abs().max() > 1e-3


def test_grouped_training_attention_keeps_less_for_backward(monkeypatch):
    from test_training_memory import saved_bytes

    model = tiny_bert(dropout=0.1).train()
    ids, mask = _batch(pad_id_of(model))
    grouped = saved_bytes(model, ids, mask)
    monkeypatch.setattr(attention_groups, "MIN_SAVING", 2.0)
    single = saved_bytes(model, ids, mask)
    assert grouped < 0.8 * single, (grouped, single)
