"""Packed (padding-free) forward of transformers' BertModel, MiniLM included.

Mirrors ``BertModel.forward`` (transformers 5.x) step by step: embeddings = word + token type
+ absolute position (the position is the token's column in the padded input, as in the
Hugging Face forward), LayerNorm, dropout; then per layer self-attention, BertSelfOutput,
BertIntermediate and BertOutput, called as the model's own submodules on packed tokens.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .embedding_rows import lookup
from .fast_dropout import dropout
from .feed_forward import feed_forward
from .packed_attention import packed_attention, projections
from .packed_layout import PackedLayout, pack, sdpa_mask
from .residual import residual_output

_ATTENTION_IMPLEMENTATIONS = ("eager", "sdpa", None)


def bert_unsupported_reason(config) -> str | None:
    """None when ``packed_bert_forward`` reproduces a BertModel with this config; else why not."""
    if getattr(config, "position_embedding_type", "absolute") != "absolute":
        return f"position_embedding_type={config.position_embedding_type!r} is not supported"
    if getattr(config, "_attn_implementation", None) not in _ATTENTION_IMPLEMENTATIONS:
        return f"attention implementation {config._attn_implementation!r} is not supported"
    return None


def packed_bert_forward(
    model: nn.Module, input_ids: Tensor, layout: PackedLayout, token_type_ids: Tensor | None
) -> Tensor:
    """BertModel's last hidden state at the real tokens, packed as [T, hidden]."""
    embeddings = model.embeddings
    ids = pack(input_ids, layout)
    positions = embeddings.position_ids[0, layout.columns]
    if token_type_ids is not None:
        types = pack(token_type_ids, layout)
    elif hasattr(embeddings, "token_type_ids"):  # the all-zeros buffer the HF forward falls back to
        types = embeddings.token_type_ids[0, layout.columns]
    else:
        types = torch.zeros_like(ids)
    hidden = lookup(embeddings.word_embeddings, ids) + embeddings.token_type_embeddings(types)
    hidden = hidden + embeddings.position_embeddings(positions)
    hidden = dropout(embeddings.LayerNorm(hidden), embeddings.dropout)

    mask = sdpa_mask(layout)
    for layer in model.encoder.layer:
        attention = layer.attention.self
        qkv = projections((attention.query, attention.key, attention.value), hidden)
        context = packed_attention(
            qkv, layout,
            num_heads=attention.num_attention_heads,
            scale=attention.scaling,
            dropout=attention.dropout,
            mask=mask,
        )
        hidden = residual_output(layer.attention.output, context, hidden)
        hidden = feed_forward(layer.intermediate, layer.output, hidden)
    return hidden
