"""One forward for all text columns of a batch.

A pair loss embeds two (or more) columns of the same rows. Running them through the encoder as
one batch instead of one forward per column gives the same embeddings (each sentence is encoded
on its own; only the padding differs) at lower cost: larger matrix products, half the per-layer
overhead, and one word-embedding gradient per step instead of one per column.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

MERGEABLE_KEYS = frozenset({"input_ids", "attention_mask", "token_type_ids"})


def pad_token_id(model: nn.Module) -> int | None:
    """The pad id of a sentforge model's tokenizer (through a DDP wrapper too); None if unknown."""
    from ..model import SentenceTransformer

    inner = getattr(model, "module", model)
    if not isinstance(inner, SentenceTransformer):
        return None
    tokenizer = inner.tokenizer
    pad = getattr(tokenizer, "pad_token_id", None) if tokenizer is not None else None
    return int(pad) if pad is not None else 0


def merge_columns(features: list[dict[str, Tensor]], pad_id: int) -> tuple[dict[str, Tensor], list[int]] | None:
    """Stack the columns' token tensors into one right-padded batch, with each column's row count.

    None when the columns cannot share a forward: other keys (e.g. a prompt length, which
    pooling reads per batch), different key sets, or tensors that are not 2-D token matrices.
    """
    if len(features) < 2:
        return None
    keys = set(features[0])
    if "input_ids" not in keys or not keys <= MERGEABLE_KEYS or any(set(f) != keys for f in features):
        return None
    if any(f[key].dim() != 2 for f in features for key in keys):
        return None
    width = max(f["input_ids"].shape[1] for f in features)
    merged = {}
    for key in keys:
        fill = pad_id if key == "input_ids" else 0
        parts = [_pad_right(f[key], width, fill) for f in features]
        merged[key] = torch.cat(parts, dim=0)
    return merged, [f["input_ids"].shape[0] for f in features]


def _pad_right(values: Tensor, width: int, fill: int) -> Tensor:
    missing = width - values.shape[1]
    if missing == 0:
        return values
    return torch.nn.functional.pad(values, (0, missing), value=fill)


def forward_merged(model: nn.Module, features: list[dict[str, Tensor]]) -> list[Tensor] | None:
    """Each column's ``sentence_embedding`` from one forward, or None when merging does not apply."""
    pad_id = pad_token_id(model)
    if pad_id is None:
        return None
    merged = merge_columns(features, pad_id)
    if merged is None:
        return None
    batch, sizes = merged
    return list(model(batch)["sentence_embedding"].split(sizes, dim=0))
