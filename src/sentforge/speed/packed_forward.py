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

import torch
from torch import Tensor, nn

from .packed_bert import bert_unsupported_reason, packed_bert_forward
from .packed_layout import TOKENS_PER_CHUNK, build_layout, sentence_groups, unpack
from .packed_mpnet import packed_mpnet_forward
from .switches import enabled


def architecture(model: nn.Module) -> str | None:
    """"bert" or "mpnet" for the encoders the packed forward knows (native or transformers'), else None."""
    if getattr(model, "is_native_encoder", False):  # speed.native_encoder.NativeEncoder
        return model.model_type
    if "transformers" not in sys.modules:  # not imported yet: the model cannot be one of its classes
        return None
    from transformers import BertModel, MPNetModel

    if isinstance(model, BertModel):
        return "bert"
    return "mpnet" if isinstance(model, MPNetModel) else None


def packed_forward_unsupported_reason(model: nn.Module) -> str | None:
    """Why ``packed_forward`` cannot run this model (None when it can)."""
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
    if tokens_per_chunk is None or not enabled("token_chunks", input_ids.device) or layout.num_tokens <= tokens_per_chunk:
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
