"""Padding-free forward of ``BertForSequenceClassification`` that computes the last layer for [CLS] only.

The classifier reads one vector per pair: the last layer's output at the first token (the
pooler's input). Every earlier layer runs on all real tokens, packed, as ``speed/packed_bert.py``
does; the last layer computes keys and values for all tokens, but the query, the attention, the
output block and the feed-forward only for each pair's [CLS] token, about a sixth of a 6-layer
model's work left out. Attention is row by row, so the logits equal the Hugging Face forward's
(to float rounding; tested, gradients too). Dropout follows the modules' mode and
``fast_dropout.no_dropout``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..speed.embedding_rows import lookup
from ..speed.fast_dropout import dropout, dropout_active
from ..speed.feed_forward import feed_forward
from ..speed.packed_attention import packed_attention, projections
from ..speed.switches import enabled
from ..speed.packed_layout import TOKENS_PER_CHUNK, PackedLayout, build_layout, pack, sdpa_mask, sentence_groups
from ..speed.residual import residual_output


def bert_classifier_logits(model: nn.Module, input_ids: Tensor, attention_mask: Tensor | None,
                           token_type_ids: Tensor | None, tokens_per_chunk: int | None = TOKENS_PER_CHUNK
                           ) -> Tensor | None:
    """``[batch, num_labels]`` logits, or None when the inputs need the Hugging Face forward
    (left padding, where the pooler reads a pad position; an empty row; not a 2D batch)."""
    if input_ids.dim() != 2 or input_ids.shape[1] == 0:
        return None
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    if attention_mask.shape != input_ids.shape or not bool(attention_mask[:, 0].all()):
        return None
    lengths = (attention_mask != 0).sum(dim=1).tolist()
    if not enabled("token_chunks", input_ids.device):
        tokens_per_chunk = None
    parts = [
        _group_logits(model, input_ids[rows], build_layout(attention_mask[rows]),
                      None if token_type_ids is None else token_type_ids[rows])
        for rows in sentence_groups(lengths, tokens_per_chunk)
    ]
    return torch.cat(parts) if len(parts) > 1 else parts[0]


def _group_logits(model: nn.Module, input_ids: Tensor, layout: PackedLayout, token_type_ids: Tensor | None) -> Tensor:
    bert = model.bert
    hidden = _embeddings(bert.embeddings, input_ids, layout, token_type_ids)
    mask = sdpa_mask(layout)
    *layers, last = bert.encoder.layer
    for layer in layers:
        attention = layer.attention.self
        qkv = projections((attention.query, attention.key, attention.value), hidden)
        context = packed_attention(qkv, layout, num_heads=attention.num_attention_heads, scale=attention.scaling,
                                   dropout=attention.dropout, mask=mask)
        hidden = residual_output(layer.attention.output, context, hidden)
        hidden = feed_forward(layer.intermediate, layer.output, hidden)
    first = torch.nonzero(layout.rank == 0).squeeze(1)  # each pair's first token: [CLS]
    cls = _last_layer_at_first_tokens(last, hidden, layout, first)
    pooled = bert.pooler.activation(bert.pooler.dense(cls))
    return model.classifier(dropout(pooled, model.dropout))


def _embeddings(embeddings: nn.Module, input_ids: Tensor, layout: PackedLayout, token_type_ids: Tensor | None
                ) -> Tensor:
    """Word + token type + position embeddings of the real tokens, LayerNorm, dropout (as packed_bert)."""
    ids = pack(input_ids, layout)
    positions = embeddings.position_ids[0, layout.columns]
    if token_type_ids is not None:
        types = pack(token_type_ids, layout)
    elif hasattr(embeddings, "token_type_ids"):
        types = embeddings.token_type_ids[0, layout.columns]
    else:
        types = torch.zeros_like(ids)
    hidden = lookup(embeddings.word_embeddings, ids) + embeddings.token_type_embeddings(types)
    hidden = hidden + embeddings.position_embeddings(positions)
    return dropout(embeddings.LayerNorm(hidden), embeddings.dropout)


def _last_layer_at_first_tokens(layer: nn.Module, hidden: Tensor, layout: PackedLayout, first: Tensor) -> Tensor:
    """The layer's output at the ``first`` packed rows only; keys and values from every real token."""
    attention = layer.attention.self
    heads = attention.num_attention_heads
    size = hidden.shape[1]
    head_dim = size // heads
    n, length = layout.num_seqs, layout.max_len
    keys_values = projections((attention.key, attention.value), hidden)
    if layout.has_padding:
        keys_values = keys_values.new_zeros(n * length, 2 * size).index_copy(0, layout.slot_index, keys_values)
    keys, values = keys_values.view(n, length, 2, heads, head_dim).permute(2, 0, 3, 1, 4).unbind(0)
    first_hidden = hidden.index_select(0, first)
    queries = attention.query(first_hidden).view(n, heads, 1, head_dim)
    p = float(attention.dropout.p) if dropout_active(attention.dropout) else 0.0
    context = F.scaled_dot_product_attention(queries, keys, values, attn_mask=layout.key_mask[:, None, None, :],
                                             dropout_p=p, scale=attention.scaling)
    output = residual_output(layer.attention.output, context.reshape(n, size), first_hidden)
    return feed_forward(layer.intermediate, layer.output, output)
