"""Packed (padding-free) forward of transformers' MPNetModel (all-mpnet-base-v2).

Mirrors ``MPNetModel.forward`` (transformers 5.x): position ids come from the input ids
(``padding_idx + cumsum(ids != padding_idx)``, computed on the padded input as there), and
every layer adds the relative position bias of ``MPNetEncoder.compute_position_bias`` to the
attention scores. That bias depends on the column distance between two tokens only, so for
right- or left-padded rows one [heads, L, L] bias serves the whole batch; rows with holes in
their attention mask get a bias per row from their real columns.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .embedding_rows import lookup
from .fast_dropout import dropout
from .feed_forward import feed_forward
from .packed_attention import packed_attention, projections
from .packed_layout import PackedLayout, mpnet_position_ids, pack, sdpa_mask
from .residual import residual_sum

# MPNetEncoder.forward calls compute_position_bias with its default bucket arguments.
_NUM_BUCKETS = 32
_MAX_DISTANCE = 128


def relative_position_bias(encoder: nn.Module, layout: PackedLayout) -> Tensor:
    """MPNet's relative attention bias, [1 or num_seqs, heads, max_len, max_len]."""
    device = layout.token_index.device
    if layout.contiguous:
        offsets = torch.arange(layout.max_len, dtype=torch.long, device=device)
        relative = offsets[None, :] - offsets[:, None]  # memory - context, as in the HF encoder
    else:
        columns = layout.columns.new_zeros(layout.num_seqs * layout.max_len)
        columns = columns.index_copy(0, layout.slot_index, layout.columns).view(layout.num_seqs, layout.max_len)
        relative = columns[:, None, :] - columns[:, :, None]
    buckets = encoder.relative_position_bucket(relative, num_buckets=_NUM_BUCKETS, max_distance=_MAX_DISTANCE)
    values = encoder.relative_attention_bias(buckets)  # [..., L, L, heads]
    if layout.contiguous:
        return values.permute(2, 0, 1).unsqueeze(0)
    return values.permute(0, 3, 1, 2)


def packed_mpnet_forward(
    model: nn.Module, input_ids: Tensor, layout: PackedLayout, token_type_ids: Tensor | None = None
) -> Tensor:
    """MPNetModel's last hidden state at the real tokens, packed as [T, hidden]."""
    embeddings = model.embeddings
    positions = pack(mpnet_position_ids(input_ids, embeddings.padding_idx), layout)
    hidden = lookup(embeddings.word_embeddings, pack(input_ids, layout)) + embeddings.position_embeddings(positions)
    hidden = dropout(embeddings.LayerNorm(hidden), embeddings.dropout)

    mask = sdpa_mask(layout, bias=relative_position_bias(model.encoder, layout))
    for layer in model.encoder.layer:
        attention = layer.attention.attn
        qkv = projections((attention.q, attention.k, attention.v), hidden)
        context = packed_attention(
            qkv, layout,
            num_heads=attention.num_attention_heads,
            scale=attention.attention_head_size**-0.5,
            dropout=attention.dropout,
            mask=mask,
        )
        hidden = layer.attention.LayerNorm(residual_sum(attention.o, layer.attention.dropout, context, hidden))
        hidden = feed_forward(layer.intermediate, layer.output, hidden)
    return hidden
