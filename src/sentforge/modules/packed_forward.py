"""Padding-free encoder forward for BERT (incl. MiniLM) and MPNet.

Mixed-length batches of short sentences are mostly padding: in a random STS-B batch of 32,
only ~40% of the positions are real tokens. Every position-wise step (embeddings, Q/K/V and
output projections, LayerNorms, feed-forward) therefore runs here on the real tokens only,
packed as ``[total_tokens, hidden]``; only attention, which mixes tokens of one sentence, goes
through a padded ``[sentences, heads, longest, head_dim]`` buffer with a key mask (torch SDPA).

The forward reuses the Hugging Face model's own submodules and parameters (no copies), so
dropout, train/eval mode, gradients and adapters wrapping the Linear layers behave as in
the Hugging Face forward (and ``fast_dropout.no_dropout()``, which encode runs under, turns
dropout off for one thread). Results match ``model(...).last_hidden_state`` at real tokens to
float rounding; padded positions come back as zeros.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .attention_groups import GroupedAttention, attention_groups, head_rows
from .fast_dropout import dropout_active
from .native_encoder import NativeEncoder
from .training_attention import grouped_training_attention, training_attention


# Real tokens per group of sentences in one pass: a [512, 4 * 384] MiniLM activation still
# fits the CPU caches. Measured on MiniLM, batch 128: 256-1024 within a few %, 512 best,
# all-at-once 10-25% slower; batches up to 512 tokens are never split.
TOKENS_PER_CHUNK = 512


@dataclass(frozen=True)
class PackedLayout:
    """Where each real token sits in the padded input and in the attention buffer.

    ``token_index`` points into the flattened ``[batch * seq_len]`` input, ``slot_index`` into
    the flattened ``[num_seqs * max_len]`` attention buffer (empty sentences are left out of it).
    """

    batch_size: int
    seq_len: int
    token_index: Tensor  # [T] row-major positions of real tokens in the input
    columns: Tensor  # [T] column of each real token in the input
    slot_index: Tensor  # [T] position in the padded attention buffer
    seq_index: Tensor  # [T] the token's sentence in the attention buffer (slot_index // max_len)
    rank: Tensor  # [T] the token's position within its sentence (slot_index % max_len)
    key_mask: Tensor  # [num_seqs, max_len] True at real tokens
    num_seqs: int
    max_len: int
    contiguous: bool  # every sentence's real tokens are one run of columns (left or right padding)
    _head_rows: dict = field(default_factory=dict, compare=False, repr=False)

    def head_rows(self, num_heads: int) -> tuple[Tensor, Tensor]:
        """Row indices into a head-major ``[3 * n * heads * L, head_dim]`` Q/K/V buffer.

        First: where each ``(token, q/k/v, head)`` row of a packed ``[T * 3 * heads, head_dim]``
        projection goes; second: the ``(token, head)`` rows of an ``[n * heads * L, head_dim]``
        attention output, in packed order. Computed once per forward and number of heads.
        """
        if num_heads not in self._head_rows:
            self._head_rows[num_heads] = head_rows(self.seq_index, self.rank, self.num_seqs, self.max_len, num_heads)
        return self._head_rows[num_heads]

    def length_groups(self, num_heads: int, head_dim: int) -> GroupedAttention | None:
        """Sentences split by length for training attention (None: one buffer); once per forward."""
        key = ("groups", num_heads, head_dim)
        if key not in self._head_rows:
            self._head_rows[key] = attention_groups(self.seq_index, self.rank, self.key_mask, num_heads, head_dim)
        return self._head_rows[key]

    @property
    def num_tokens(self) -> int:
        return int(self.token_index.numel())

    @property
    def has_padding(self) -> bool:
        return self.num_tokens != self.num_seqs * self.max_len


def build_layout(attention_mask: Tensor) -> PackedLayout:
    """Index bookkeeping shared by all layers of one forward (computed once per batch)."""
    mask = attention_mask != 0
    batch_size, seq_len = mask.shape
    lengths = mask.sum(dim=1)
    token_index = mask.reshape(-1).nonzero().squeeze(1)
    rows = torch.div(token_index, seq_len, rounding_mode="floor")
    columns = token_index - rows * seq_len
    rank = (mask.cumsum(dim=1) - 1).reshape(-1)[token_index]
    non_empty = lengths > 0
    if bool(non_empty.all()):
        seq, seq_lengths = rows, lengths
    else:
        seq, seq_lengths = (non_empty.cumsum(dim=0) - 1)[rows], lengths[non_empty]
    num_seqs = int(seq_lengths.numel())
    max_len = int(seq_lengths.max()) if num_seqs else 0
    runs = mask[:, 0].long() + (mask[:, 1:] & ~mask[:, :-1]).sum(dim=1)  # 0->1 switches per row
    return PackedLayout(
        batch_size=batch_size,
        seq_len=seq_len,
        token_index=token_index,
        columns=columns,
        slot_index=seq * max_len + rank,
        seq_index=seq,
        rank=rank,
        key_mask=torch.arange(max_len, device=mask.device)[None, :] < seq_lengths[:, None],
        num_seqs=num_seqs,
        max_len=max_len,
        contiguous=bool((runs <= 1).all()),
    )


def pack(values: Tensor, layout: PackedLayout) -> Tensor:
    """[batch, seq_len, ...] -> [T, ...]: keep the real tokens only."""
    return values.reshape(layout.batch_size * layout.seq_len, *values.shape[2:])[layout.token_index]


def unpack(tokens: Tensor, layout: PackedLayout) -> Tensor:
    """[T, hidden] -> [batch, seq_len, hidden] with zeros at the padded positions."""
    if not layout.has_padding and layout.num_seqs == layout.batch_size and layout.max_len == layout.seq_len:
        return tokens.reshape(layout.batch_size, layout.seq_len, -1)
    out = tokens.new_zeros(layout.batch_size * layout.seq_len, tokens.shape[-1])
    return out.index_copy_(0, layout.token_index, tokens).view(layout.batch_size, layout.seq_len, -1)


def sdpa_mask(layout: PackedLayout, bias: Tensor | None = None) -> Tensor | None:
    """The SDPA ``attn_mask`` for all layers of one forward: key padding, plus an additive bias.

    ``bias`` (MPNet's relative position bias, broadcastable to [num_seqs, heads, L, L]) gets the
    dtype minimum at padded keys, like the additive mask of the Hugging Face eager attention.
    """
    mask = layout.key_mask[:, None, None, :] if layout.has_padding else None
    if bias is None:
        return mask
    return bias if mask is None else torch.where(mask, bias, torch.finfo(bias.dtype).min)


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
_FROZEN_STACKS: ContextVar[dict[int, tuple[Tensor, Tensor | None]] | None] = ContextVar(
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
    if stacks is not None and id(linears[0]) in stacks:
        return stacks[id(linears[0])]
    weight = torch.cat([m.weight for m in linears])
    bias = None if any(m.bias is None for m in linears) else torch.cat([m.bias for m in linears])
    if stacks is not None and not torch.is_grad_enabled():
        stacks[id(linears[0])] = (weight, bias)
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
    if drops and qkv.device.type == "cpu":
        # Training: the tokens go straight into a head-major [3, n, heads, L, head_dim] buffer, so
        # q, k and v are contiguous for the batched products (no transposed copies, forward or
        # backward); the output rows are gathered back.
        if type(dropout) is nn.Dropout and dropout.p < 1:
            boolean_mask = mask is None or mask.dtype == torch.bool  # an additive bias stays in one buffer
            groups = layout.length_groups(num_heads, head_dim) if boolean_mask else None
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
    from .fast_dropout import dropout as apply_dropout

    scores = torch.matmul(q, k.transpose(-1, -2)).mul_(scale)  # in place: the product saves only q and k
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill_(~mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores.add_(mask)
    return torch.matmul(apply_dropout(torch.softmax(scores, dim=-1), dropout), v)


def architecture(model: nn.Module) -> str | None:
    """"bert" or "mpnet" for the encoders the packed forward knows (native or transformers'), else None."""
    if isinstance(model, NativeEncoder):
        return model.model_type
    if "transformers" not in sys.modules:  # not imported yet: the model cannot be one of its classes
        return None
    from transformers import BertModel, MPNetModel

    if isinstance(model, BertModel):
        return "bert"
    return "mpnet" if isinstance(model, MPNetModel) else None


def packed_forward_unsupported_reason(model: nn.Module) -> str | None:
    """Why ``packed_forward`` cannot run this model (None when it can)."""
    from .packed_bert import bert_unsupported_reason

    kind = architecture(model)
    if kind == "bert":
        return bert_unsupported_reason(model.config) or common_unsupported_reason(model)
    if kind == "mpnet":
        return common_unsupported_reason(model)
    return f"{type(model).__name__} is not a BertModel or MPNetModel"


def common_unsupported_reason(model: nn.Module) -> str | None:
    """Checks shared by both architectures: options the packed forward does not reproduce."""
    config = model.config
    if getattr(config, "is_decoder", False) or getattr(config, "add_cross_attention", False):
        return "decoder / cross-attention configs are not supported"
    if getattr(config, "output_attentions", False) or getattr(config, "output_hidden_states", False):
        return "output_attentions / output_hidden_states need the Hugging Face forward"
    layers = getattr(getattr(model, "encoder", None), "layer", ())
    if any(getattr(m, "gradient_checkpointing", False) for m in (model, *layers)):
        return "gradient checkpointing is on (the packed forward keeps all activations)"
    return None


def packed_forward(
    model: nn.Module,
    input_ids: Tensor,
    attention_mask: Tensor | None = None,
    token_type_ids: Tensor | None = None,
    tokens_per_chunk: int | None = TOKENS_PER_CHUNK,
) -> Tensor | None:
    """Last hidden state ``[batch, seq_len, hidden]`` of a BertModel/MPNetModel, zeros at padding.

    Large batches run as consecutive groups of sentences of about ``tokens_per_chunk`` real
    tokens each (None: all at once), so that activations stay in the CPU caches.
    Returns None when the model or the inputs are not supported (other architectures,
    decoder/cross-attention configs, gradient checkpointing, output_attentions/hidden_states,
    non-2D inputs, an all-padding batch): the caller then runs the Hugging Face forward.
    """
    from .packed_bert import packed_bert_forward
    from .packed_mpnet import packed_mpnet_forward

    if input_ids.dim() != 2 or input_ids.shape[1] == 0 or packed_forward_unsupported_reason(model):
        return None
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    elif attention_mask.shape != input_ids.shape:
        return None
    if architecture(model) == "bert":
        run = packed_bert_forward
    else:
        run = packed_mpnet_forward
        token_type_ids = None  # MPNet has no token types; its forward ignores them
    layout = build_layout(attention_mask)
    if layout.num_tokens == 0:
        return None
    if tokens_per_chunk is None or layout.num_tokens <= tokens_per_chunk:
        return unpack(run(model, input_ids, layout, token_type_ids), layout)
    chunks = [
        run(
            model,
            input_ids[rows],
            build_layout(attention_mask[rows]),
            None if token_type_ids is None else token_type_ids[rows],
        )
        for rows in sentence_groups((attention_mask != 0).sum(dim=1).tolist(), tokens_per_chunk)
    ]
    return unpack(torch.cat(chunks), layout)  # row-major order: the chunks' tokens follow each other


def sentence_groups(lengths: list[int], tokens_per_chunk: int | None) -> list[slice]:
    """Consecutive rows with at most ``tokens_per_chunk`` real tokens together (one row at least)."""
    if tokens_per_chunk is None or sum(lengths) <= tokens_per_chunk:
        return [slice(0, len(lengths))]
    groups, start, total = [], 0, 0
    for row, length in enumerate(lengths):
        if total and total + length > tokens_per_chunk:
            groups.append(slice(start, row))
            start, total = row, 0
        total += length
    groups.append(slice(start, len(lengths)))
    return groups
