"""BERT (MiniLM included) and MPNet encoders built without transformers' modelling code.

Importing ``transformers.models.bert.modeling_bert`` and what it pulls in takes about two
seconds, most of a cold start. These modules hold the same parameters under the same names
and shapes as transformers' ``BertModel`` / ``MPNetModel`` (so a checkpoint loads into them
key for key) and run through the packed forward, which reads only those submodules.
``Transformer`` uses them when a local safetensors checkpoint maps onto them exactly, and
builds the Hugging Face model from the very same Parameter objects the first time someone asks
for ``auto_model`` (saving, adapters, the Hugging Face forward), so nothing is copied or lost.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from .packed_forward import packed_forward

SUPPORTED_TYPES = ("bert", "mpnet")
HF_CLASS_NAMES = {"bert": "BertModel", "mpnet": "MPNetModel"}
_ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU}


# transformers' BertConfig / MPNetConfig defaults, for fields a config.json leaves out
_SHARED_DEFAULTS = {
    "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512, "layer_norm_eps": 1e-12,
}
_DEFAULTS = {
    "bert": {**_SHARED_DEFAULTS, "vocab_size": 30522, "type_vocab_size": 2, "pad_token_id": 0,
             "position_embedding_type": "absolute"},
    "mpnet": {**_SHARED_DEFAULTS, "vocab_size": 30527, "relative_attention_num_buckets": 32, "pad_token_id": 1},
}


class NativeConfig:
    """The checkpoint's ``config.json`` as attributes, with transformers' defaults for absent fields."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = {**_DEFAULTS.get(values.get("model_type"), {}), **values}
        self.__dict__.update(self.values)

    def __getattr__(self, name: str) -> Any:
        """Fields config.json left out read as None (as optional fields of a transformers config)."""
        if name.startswith("__"):
            raise AttributeError(name)
        return None


def unsupported_reason(values: dict[str, Any]) -> str | None:
    """None when a native encoder reproduces this config exactly; else why not."""
    model_type = values.get("model_type")
    if model_type not in SUPPORTED_TYPES:
        return f"model_type {model_type!r} has no native encoder"
    if values.get("hidden_act", "gelu") not in _ACTIVATIONS:
        return f"hidden_act {values.get('hidden_act')!r} has no native encoder"
    if values.get("position_embedding_type", "absolute") != "absolute":
        return "only absolute position embeddings have a native encoder"
    for flag in ("is_decoder", "add_cross_attention", "output_attentions", "output_hidden_states",
                 "torchscript", "gradient_checkpointing"):
        if values.get(flag):
            return f"{flag} needs the Hugging Face model"
    if values.get("_attn_implementation") or values.get("attn_implementation"):
        return "an explicit attention implementation needs the Hugging Face model"
    return None


class _Intermediate(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.intermediate_act_fn = _ACTIVATIONS[config.hidden_act]()

    def forward(self, hidden: Tensor) -> Tensor:
        return self.intermediate_act_fn(self.dense(hidden))


class _Output(nn.Module):
    """Dense, dropout, residual LayerNorm (BERT's SelfOutput and Output, MPNet's Output)."""

    def __init__(self, config: NativeConfig, in_size: int) -> None:
        super().__init__()
        self.dense = nn.Linear(in_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=_eps(config))
        self.dropout = nn.Dropout(_dropout(config, "hidden_dropout_prob"))


class _Pooler(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.activation = nn.Tanh()


class NativeEncoder(nn.Module):
    """Base: the config, the pooler, and the packed forward as ``forward``."""

    model_type = ""
    is_native_encoder = True  # how the packed forward tells it from transformers' classes

    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.config = config

    def forward(self, input_ids: Tensor, attention_mask: Tensor | None = None,
                token_type_ids: Tensor | None = None) -> Tensor:
        """Last hidden state ``[batch, seq_len, hidden]``, zeros at padded positions."""
        out = packed_forward(self, input_ids, attention_mask, token_type_ids)
        if out is None:
            raise ValueError("the native encoder needs 2-D inputs with at least one real token")
        return out


# -- BERT ----------------------------------------------------------------------------------------
class _BertEmbeddings(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.word_embeddings = _embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = _embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = _embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=_eps(config))
        self.dropout = nn.Dropout(_dropout(config, "hidden_dropout_prob"))
        positions = torch.arange(config.max_position_embeddings, device="cpu").expand((1, -1))
        self.register_buffer("position_ids", positions, persistent=False)
        types = torch.zeros(positions.shape, dtype=torch.long, device="cpu")
        self.register_buffer("token_type_ids", types, persistent=False)


class _BertSelfAttention(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.scaling = self.attention_head_size**-0.5
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(_dropout(config, "attention_probs_dropout_prob"))


class _BertAttention(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.self = _BertSelfAttention(config)
        self.output = _Output(config, config.hidden_size)


class _BertLayer(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.attention = _BertAttention(config)
        self.intermediate = _Intermediate(config)
        self.output = _Output(config, config.intermediate_size)


class _Encoder(nn.Module):
    def __init__(self, layers: list[nn.Module]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(layers)


class NativeBert(NativeEncoder):
    """transformers' ``BertModel`` parameters and buffers, name for name."""

    model_type = "bert"

    def __init__(self, config: NativeConfig) -> None:
        super().__init__(config)
        self.embeddings = _BertEmbeddings(config)
        self.encoder = _Encoder([_BertLayer(config) for _ in range(config.num_hidden_layers)])
        self.pooler = _Pooler(config)


# -- MPNet ---------------------------------------------------------------------------------------
class _MPNetEmbeddings(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.padding_idx = 1  # fixed in transformers' MPNetEmbeddings, whatever the config's pad_token_id
        self.word_embeddings = _embedding(config.vocab_size, config.hidden_size, padding_idx=self.padding_idx)
        self.position_embeddings = _embedding(
            config.max_position_embeddings, config.hidden_size, padding_idx=self.padding_idx
        )
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=_eps(config))
        self.dropout = nn.Dropout(_dropout(config, "hidden_dropout_prob"))
        positions = torch.arange(config.max_position_embeddings, device="cpu").expand((1, -1))
        self.register_buffer("position_ids", positions, persistent=False)


class _MPNetSelfAttention(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.hidden_size // config.num_attention_heads
        self.q = nn.Linear(config.hidden_size, config.hidden_size)
        self.k = nn.Linear(config.hidden_size, config.hidden_size)
        self.v = nn.Linear(config.hidden_size, config.hidden_size)
        self.o = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(_dropout(config, "attention_probs_dropout_prob"))


class _MPNetAttention(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.attn = _MPNetSelfAttention(config)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=_eps(config))
        self.dropout = nn.Dropout(_dropout(config, "hidden_dropout_prob"))


class _MPNetLayer(nn.Module):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__()
        self.attention = _MPNetAttention(config)
        self.intermediate = _Intermediate(config)
        self.output = _Output(config, config.intermediate_size)


class _MPNetEncoder(_Encoder):
    def __init__(self, config: NativeConfig) -> None:
        super().__init__([_MPNetLayer(config) for _ in range(config.num_hidden_layers)])
        self.relative_attention_bias = _embedding(config.relative_attention_num_buckets, config.num_attention_heads)

    @staticmethod
    def relative_position_bucket(relative_position: Tensor, num_buckets: int = 32, max_distance: int = 128) -> Tensor:
        """Bidirectional log-spaced buckets of key-minus-query distances (T5 / MPNet)."""
        num_buckets //= 2
        buckets = (relative_position > 0).to(torch.long) * num_buckets
        distance = relative_position.abs()
        max_exact = num_buckets // 2
        is_small = distance < max_exact
        far = max_exact + (
            torch.log(distance.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
        ).to(torch.long)
        far = torch.min(far, torch.full_like(far, num_buckets - 1))
        return buckets + torch.where(is_small, distance, far)


class NativeMPNet(NativeEncoder):
    """transformers' ``MPNetModel`` parameters and buffers, name for name."""

    model_type = "mpnet"

    def __init__(self, config: NativeConfig) -> None:
        super().__init__(config)
        self.embeddings = _MPNetEmbeddings(config)
        self.encoder = _MPNetEncoder(config)
        self.pooler = _Pooler(config)


def build_native_encoder(values: dict[str, Any]) -> NativeEncoder:
    """An encoder for this config (call ``unsupported_reason`` first): parameters on the meta device
    (no random init; load them with ``load_state_dict(..., assign=True)``), buffers on the CPU."""
    config = NativeConfig(values)
    with torch.device("meta"):
        return (NativeBert if config.model_type == "bert" else NativeMPNet)(config)


def _embedding(num: int, dim: int, padding_idx: int | None = None) -> nn.Embedding:
    """An embedding without random init (weights are loaded; on meta, init would import torch._dynamo)."""
    return nn.Embedding(num, dim, padding_idx=padding_idx, _weight=torch.empty(num, dim))


def _eps(config: NativeConfig) -> float:
    return float(config.layer_norm_eps)


def _dropout(config: NativeConfig, name: str) -> float:
    return float(getattr(config, name))
