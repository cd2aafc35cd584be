"""Attention of the packed forward in CPU training, as one autograd step that saves little.

Written as separate torch ops, a training step's attention keeps for the backward pass: the
head-major Q/K/V buffer (padded to the longest sentence), the softmax output, the dropout mask
as floats, the dropped-out probabilities and the packed Q/K/V again (``index_copy`` saves its
source): about 12 bytes per attention score plus two copies of Q/K/V. These functions keep only
the packed Q/K/V, the softmax output and the dropout mask as booleans (5 bytes per score), and
rebuild the rest in the backward pass. Forward values are the same ops in the same order, so
they equal the unfused version exactly; gradients equal autograd's to float rounding.

``training_attention`` pads all sentences to the longest; ``grouped_training_attention`` pads each
length group (``attention_groups``) to its own longest, all groups in one autograd step.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .attention_groups import AttentionGroup, GroupedAttention
from .fast_dropout import keep_mask
from .scratch import scratch


def _attend(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, scale: float, p_drop: float, out: Tensor):
    """softmax(q k^T * scale + mask), dropout, times v into ``out``; returns (probs, keep) for backward."""
    n, heads, length, _ = q.shape
    scores = torch.matmul(q, k.transpose(-1, -2), out=scratch("attention.scores_c", (n, heads, length, length), q))
    scores = scores.mul_(scale)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill_(~mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores.add_(mask)
    probs = torch.softmax(scores, dim=-1)
    keep = keep_mask(probs.shape, p_drop, probs.device) if p_drop > 0 else None
    dropped = probs if keep is None else _scaled(keep, probs, p_drop, "attention.scores_b").mul_(probs)
    torch.matmul(dropped, v, out=out)
    return probs, keep


def _attend_backward(
    q: Tensor, k: Tensor, v: Tensor, probs: Tensor, keep: Tensor | None, grad_o: Tensor, grads: Tensor,
    scale: float, p_drop: float, mask_shape: torch.Size | None = None,
) -> Tensor | None:
    """Gradients of q, k, v into ``grads`` [3, n, heads, L, head_dim]; returns an additive mask's gradient."""
    scaled_keep = None if keep is None else _scaled(keep, probs, p_drop, "attention.scores_a")
    work = scratch("attention.scores_b", probs.shape, probs)
    dropped = probs if scaled_keep is None else torch.mul(probs, scaled_keep, out=work)
    torch.matmul(dropped.transpose(-1, -2), grad_o, out=grads[2])
    grad_scores = torch.matmul(grad_o, v.transpose(-1, -2), out=scratch("attention.scores_c", probs.shape, probs))
    if scaled_keep is not None:
        grad_scores = grad_scores.mul_(scaled_keep)
    # softmax backward in place: probs * (grad - sum(grad * probs))
    row_dot = torch.mul(grad_scores, probs, out=work).sum(dim=-1, keepdim=True)
    grad_scores = grad_scores.sub_(row_dot).mul_(probs)
    grad_mask = None
    if mask_shape is not None:  # an additive bias: its gradient is the scores' own
        grad_mask = _sum_to_shape(grad_scores, mask_shape)
        if grad_mask is grad_scores:
            grad_mask = grad_scores.clone()
    grad_scores = grad_scores.mul_(scale)
    torch.matmul(grad_scores, k, out=grads[0])
    torch.matmul(grad_scores.transpose(-1, -2), q, out=grads[1])
    return grad_mask


class _PackedTrainingAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, qkv, mask, scatter, gather, shape, scale, p_drop):
        n, heads, length, head_dim = shape
        q, k, v = _heads_first(qkv, scatter, shape, "attention.heads").unbind(0)
        out = scratch("attention.out", (n, heads, length, head_dim), qkv)
        probs, keep = _attend(q, k, v, mask, scale, p_drop, out)
        ctx.save_for_backward(qkv, probs, keep, scatter, gather)
        ctx.mask_shape = None if mask is None or not mask.requires_grad else mask.shape
        ctx.shape, ctx.scale, ctx.p_drop = shape, scale, p_drop
        return out.reshape(-1, head_dim).index_select(0, gather).view(-1, heads * head_dim)

    @staticmethod
    def backward(ctx, grad_out):
        qkv, probs, keep, scatter, gather = ctx.saved_tensors
        n, heads, length, head_dim = ctx.shape
        q, k, v = _heads_first(qkv, scatter, ctx.shape, "attention.heads").unbind(0)
        grad_o = scratch("attention.out", (n * heads * length, head_dim), qkv).zero_()
        grad_o = grad_o.index_copy_(0, gather, grad_out.reshape(-1, head_dim)).view(n, heads, length, head_dim)
        grads = scratch("attention.grads", (3, n, heads, length, head_dim), qkv)
        grad_mask = _attend_backward(q, k, v, probs, keep, grad_o, grads, ctx.scale, ctx.p_drop, ctx.mask_shape)
        grad_qkv = grads.view(-1, head_dim).index_select(0, scatter).view_as(qkv)
        return grad_qkv, grad_mask, None, None, None, None, None


class _GroupedTrainingAttention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, qkv, grouped, num_heads, scale, p_drop):
        head_dim = qkv.shape[-1] // 3 // num_heads
        heads = _grouped_heads_first(qkv, grouped, head_dim)
        out = scratch("attention.out", (grouped.out_buffer_rows, head_dim), qkv)
        saved = []
        for group in grouped.groups:
            q, k, v = _group_block(heads, group, 3, num_heads, head_dim).unbind(0)
            group_out = _group_block(out, group, 0, num_heads, head_dim)
            saved.extend(_attend(q, k, v, group.key_mask, scale, p_drop, group_out))
        ctx.keep_present = [keep is not None for keep in saved[1::2]]
        ctx.save_for_backward(qkv, *(t for t in saved if t is not None))
        ctx.grouped, ctx.num_heads, ctx.scale, ctx.p_drop = grouped, num_heads, scale, p_drop
        return out.index_select(0, grouped.out_rows).view(-1, num_heads * head_dim)

    @staticmethod
    def backward(ctx, grad_out):
        qkv, *saved = ctx.saved_tensors
        grouped, num_heads = ctx.grouped, ctx.num_heads
        head_dim = qkv.shape[-1] // 3 // num_heads
        heads = _grouped_heads_first(qkv, grouped, head_dim)
        grad_o_all = scratch("attention.out", (grouped.out_buffer_rows, head_dim), qkv).zero_()
        grad_o_all.index_copy_(0, grouped.out_rows, grad_out.reshape(-1, head_dim))
        grads = scratch("attention.grads", (grouped.qkv_buffer_rows, head_dim), qkv)
        saved = iter(saved)
        for group, has_keep in zip(grouped.groups, ctx.keep_present):
            probs = next(saved)
            keep = next(saved) if has_keep else None
            q, k, v = _group_block(heads, group, 3, num_heads, head_dim).unbind(0)
            grad_o = _group_block(grad_o_all, group, 0, num_heads, head_dim)
            _attend_backward(q, k, v, probs, keep, grad_o, _group_block(grads, group, 3, num_heads, head_dim),
                             ctx.scale, ctx.p_drop)
        return grads.index_select(0, grouped.qkv_rows).view_as(qkv), None, None, None, None


def _heads_first(qkv: Tensor, scatter: Tensor, shape: tuple[int, int, int, int], name: str) -> Tensor:
    """The packed ``[T, 3 * hidden]`` Q/K/V scattered into a zero-padded [3, n, heads, L, head_dim]."""
    n, heads, length, head_dim = shape
    buffer = scratch(name, (3 * n * heads * length, head_dim), qkv).zero_()
    return buffer.index_copy_(0, scatter, qkv.reshape(-1, head_dim)).view(3, n, heads, length, head_dim)


def _grouped_heads_first(qkv: Tensor, grouped: GroupedAttention, head_dim: int) -> Tensor:
    """The packed Q/K/V scattered into all groups' zero-padded head-major blocks, one after another."""
    buffer = scratch("attention.heads", (grouped.qkv_buffer_rows, head_dim), qkv).zero_()
    return buffer.index_copy_(0, grouped.qkv_rows, qkv.reshape(-1, head_dim))


def _group_block(buffer: Tensor, group: AttentionGroup, parts: int, heads: int, head_dim: int) -> Tensor:
    """One group's [parts, n, heads, L, head_dim] block (parts 3: Q/K/V buffer; 0: output, no parts axis)."""
    shape = (group.num_seqs, heads, group.max_len, head_dim)
    first = group.qkv_offset if parts else group.out_offset
    rows = max(parts, 1) * group.num_seqs * heads * group.max_len
    block = buffer[first:first + rows]
    return block.view(parts, *shape) if parts else block.view(shape)


def _scaled(keep: Tensor, like: Tensor, p_drop: float, name: str) -> Tensor:
    """The dropout factor: ``1 / (1 - p)`` where kept, 0 elsewhere (as ``fast_dropout.dropout``)."""
    return scratch(name, tuple(keep.shape), like).copy_(keep).mul_(1.0 / (1.0 - p_drop))


def _sum_to_shape(grad: Tensor, shape: torch.Size) -> Tensor:
    """Sum ``grad`` over the dimensions an additive mask of ``shape`` was broadcast along."""
    dims = [i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1]
    return grad.sum(dim=dims, keepdim=True) if dims else grad


def training_attention(
    qkv: Tensor, mask: Tensor | None, scatter: Tensor, gather: Tensor,
    shape: tuple[int, int, int, int], scale: float, p_drop: float,
) -> Tensor:
    """softmax(q k^T * scale + mask), dropout ``p_drop``, times v, per sentence; [T, hidden].

    ``scatter`` / ``gather`` are ``PackedLayout.head_rows``; ``shape`` is (sentences, heads,
    longest, head_dim). ``mask`` is a boolean key mask or an additive bias (which may need a
    gradient, as MPNet's relative position bias does), broadcastable to [n, heads, L, L].
    """
    return _PackedTrainingAttention.apply(qkv, mask, scatter, gather, shape, scale, p_drop)


def grouped_training_attention(
    qkv: Tensor, grouped: GroupedAttention, num_heads: int, scale: float, p_drop: float
) -> Tensor:
    """As ``training_attention`` with a boolean key mask, each length group in its own padded buffer."""
    return _GroupedTrainingAttention.apply(qkv, grouped, num_heads, scale, p_drop)
