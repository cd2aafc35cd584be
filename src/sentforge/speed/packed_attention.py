"""Attention and the fused Q/K/V projection on packed tokens (shared by the BERT and MPNet packed forwards)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .fast_dropout import dropout as apply_dropout
from .fast_dropout import dropout_active
from .packed_layout import PackedLayout
from .training_attention import grouped_training_attention, training_attention
from .switches import enabled


def projections(linears: tuple[nn.Module, ...], hidden: Tensor) -> Tensor:
    """Q, K and V side by side, ``[T, 3 * hidden]``: one matrix product when all are plain nn.Linear
    (or int8 layers stacked by ``quantize_model``)."""
    stack = getattr(linears[0], "stack", None)
    if stack is not None and stack.parts == tuple(linears):
        return stack.layer(hidden)
    if not all(type(m) is nn.Linear for m in linears):
        return torch.cat([m(hidden) for m in linears], dim=-1)
    weight, bias = _fused_parameters(linears)
    return F.linear(hidden, weight, bias)


# Stacked Q/K/V weights per attention block, kept only inside `frozen_weights()` (encode), where the
# weights cannot change. Outside it they are stacked on every call: an optimizer may update the
# weights in place without any trace a cache could check (fused AdamW leaves version counters alone).
_FROZEN_STACKS: ContextVar[dict[nn.Module, tuple[Tensor, Tensor | None]] | None] = ContextVar(
    "sentforge_frozen_qkv", default=None
)


@contextmanager
def frozen_weights() -> Iterator[None]:
    """Inside the block the model's weights stay as they are: stack each block's Q/K/V weights once."""
    token = _FROZEN_STACKS.set({})
    try:
        yield
    finally:
        _FROZEN_STACKS.reset(token)


def _fused_parameters(linears: tuple[nn.Linear, ...]) -> tuple[Tensor, Tensor | None]:
    """Q, K, V weights (and biases) stacked along the output dimension."""
    stacks = _FROZEN_STACKS.get()
    if stacks is not None and linears[0] in stacks:  # keyed by the module itself, never by a reused id()
        return stacks[linears[0]]
    weight = torch.cat([m.weight for m in linears])
    bias = None if any(m.bias is None for m in linears) else torch.cat([m.bias for m in linears])
    if stacks is not None and not torch.is_grad_enabled():
        stacks[linears[0]] = (weight, bias)
    return weight, bias


def packed_attention(
    qkv: Tensor,
    layout: PackedLayout,
    num_heads: int,
    scale: float,
    dropout: nn.Module,
    mask: Tensor | None,
) -> Tensor:
    """Scaled dot-product attention within each sentence, on packed ``[T, 3 * hidden]`` Q, K, V.

    Only here do the tokens go through a padded [num_seqs, heads, max_len, head_dim] buffer.
    ``dropout`` (the attention's nn.Dropout) acts on the attention probabilities in training
    (not inside ``fast_dropout.no_dropout()``).
    """
    hidden = qkv.shape[-1] // 3
    head_dim = hidden // num_heads
    n, length = layout.num_seqs, layout.max_len
    if mask is not None and mask.dtype not in (torch.bool, qkv.dtype):  # e.g. under autocast
        mask = mask.to(qkv.dtype)
    drops = dropout_active(dropout)
    if drops and enabled("training_attention", qkv.device):
        # Training: the tokens go straight into a head-major [3, n, heads, L, head_dim] buffer, so
        # q, k and v are contiguous for the batched products (no transposed copies, forward or
        # backward); the output rows are gathered back.
        if type(dropout) is nn.Dropout and dropout.p < 1:
            boolean_mask = mask is None or mask.dtype == torch.bool  # an additive bias stays in one buffer
            grouped = boolean_mask and enabled("attention_groups", qkv.device)
            groups = layout.length_groups(num_heads, head_dim) if grouped else None
            if groups is not None:
                return grouped_training_attention(qkv, groups, num_heads, scale, float(dropout.p))
            scatter, gather = layout.head_rows(num_heads)
            shape = (n, num_heads, length, head_dim)
            return training_attention(qkv, mask, scatter, gather, shape, scale, float(dropout.p))
        scatter, gather = layout.head_rows(num_heads)
        heads_first = qkv.new_zeros(3 * n * num_heads * length, head_dim)
        heads_first = heads_first.index_copy_(0, scatter, qkv.reshape(-1, head_dim))
        q, k, v = heads_first.view(3, n, num_heads, length, head_dim).unbind(0)
        out = _attention_with_fast_dropout(q, k, v, scale, dropout, mask)
        return out.reshape(-1, head_dim).index_select(0, gather).view(-1, hidden)
    # Inference: SDPA reads the strided views of one token-major buffer directly.
    if layout.has_padding:
        qkv = qkv.new_zeros(n * length, 3 * hidden).index_copy_(0, layout.slot_index, qkv)
    q, k, v = qkv.view(n, length, 3, num_heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    p = float(dropout.p) if drops else 0.0
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, scale=scale)
    out = out.transpose(1, 2).reshape(n * length, hidden)
    return out.index_select(0, layout.slot_index) if layout.has_padding else out


def _attention_with_fast_dropout(
    q: Tensor, k: Tensor, v: Tensor, scale: float, dropout: nn.Module, mask: Tensor | None
) -> Tensor:
    """softmax(q k^T * scale + mask), dropout, times v: what SDPA computes, with the cheaper mask."""
    scores = torch.matmul(q, k.transpose(-1, -2)).mul_(scale)  # in place: the product saves only q and k
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill_(~mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores.add_(mask)
    return torch.matmul(apply_dropout(torch.softmax(scores, dim=-1), dropout), v)
