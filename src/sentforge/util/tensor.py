"""Tensor helpers, as ``sentence_transformers.util.tensor``: moving batches, truncating,
sparsifying and padding embeddings."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..similarity import normalize_embeddings

__all__ = [
    "batch_to_device",
    "cat_padded_token_embeddings",
    "compute_count_vector",
    "normalize_embeddings",
    "repad_flattened_features",
    "select_max_active_dims",
    "stack_padded_token_embeddings",
    "to_scipy_coo",
    "truncate_embeddings",
]


def as_tensor(values: list | np.ndarray | Tensor) -> Tensor:
    """A tensor from a tensor, an array, a list of tensors / arrays (stacked) or nested lists."""
    if isinstance(values, Tensor):
        return values
    if isinstance(values, np.ndarray):
        return torch.from_numpy(values) if values.flags.writeable else torch.tensor(values)
    if isinstance(values, list) and values and all(isinstance(v, Tensor) for v in values):
        return torch.stack(values)
    if isinstance(values, list) and values and all(isinstance(v, np.ndarray) for v in values):
        return torch.stack([as_tensor(v) for v in values])
    return torch.tensor(values)


def as_float_tensor(values: list | np.ndarray | Tensor) -> Tensor:
    """:func:`as_tensor`, with half precision raised to float32 (integers are kept)."""
    tensor = as_tensor(values)
    if tensor.is_sparse:
        return tensor.to(torch.float32)
    if torch.is_floating_point(tensor) and torch.finfo(tensor.dtype).bits < 32:
        return tensor.to(torch.float32)
    return tensor


def batch_to_device(batch: dict[str, Any], target_device: torch.device | str) -> dict[str, Any]:
    """Move every tensor value of ``batch`` to ``target_device`` (in place; the dict is returned)."""
    for key in batch:
        if isinstance(batch[key], Tensor):
            batch[key] = batch[key].to(target_device)
    return batch


def truncate_embeddings(embeddings: np.ndarray | Tensor, truncate_dim: int | None) -> np.ndarray | Tensor:
    """The first ``truncate_dim`` dimensions of each embedding (all of them for None)."""
    return embeddings[..., :truncate_dim]


def select_max_active_dims(embeddings: np.ndarray | Tensor, max_active_dims: int | None) -> np.ndarray | Tensor:
    """Keep each embedding's ``max_active_dims`` largest-magnitude values and zero the rest."""
    if max_active_dims is None:
        return embeddings
    if max_active_dims <= 0:
        raise ValueError(f"max_active_dims must be a positive integer, got {max_active_dims}.")
    embeddings = as_tensor(embeddings)
    k = min(max_active_dims, embeddings.shape[-1])
    _, top_indices = torch.topk(torch.abs(embeddings), k=k, dim=-1)
    selected = torch.zeros_like(embeddings)
    selected.scatter_(-1, top_indices, embeddings.gather(-1, top_indices))
    return selected


def _pad_to_same_width(embeddings: list[Tensor], masks: list[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
    width = max(e.size(1) for e in embeddings)
    if all(e.size(1) == width for e in embeddings):
        return embeddings, masks
    embeddings = [torch.nn.functional.pad(e, (0, 0, 0, width - e.size(1))) for e in embeddings]
    masks = [torch.nn.functional.pad(m, (0, width - m.size(1))) for m in masks]
    return embeddings, masks


def stack_padded_token_embeddings(embeddings: list[Tensor], masks: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Stack ``(batch, tokens_i, dim)`` token embeddings (and masks) on a new dim 1, padding the tokens."""
    embeddings, masks = _pad_to_same_width(embeddings, masks)
    return torch.stack(embeddings, dim=1), torch.stack(masks, dim=1)


def cat_padded_token_embeddings(embeddings: list[Tensor], masks: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Concatenate ``(batch_i, tokens_i, dim)`` token embeddings (and masks) along the batch, padding the tokens."""
    embeddings, masks = _pad_to_same_width(embeddings, masks)
    return torch.cat(embeddings, dim=0), torch.cat(masks, dim=0)


def repad_flattened_features(features: dict[str, Any]) -> dict[str, Any]:
    """Turn a flattened (padding-free, ``cu_seq_lens_q``) batch back into a right-padded one."""
    bounds = features["cu_seq_lens_q"].tolist()
    flat_embeddings, flat_ids = features["token_embeddings"][0], features["input_ids"][0]
    spans = list(zip(bounds[:-1], bounds[1:]))
    features["token_embeddings"] = torch.nn.utils.rnn.pad_sequence(
        [flat_embeddings[s:e] for s, e in spans], batch_first=True, padding_value=0.0
    )
    features["input_ids"] = torch.nn.utils.rnn.pad_sequence(
        [flat_ids[s:e] for s, e in spans], batch_first=True, padding_value=0
    )
    lengths = torch.tensor([e - s for s, e in spans], device=flat_embeddings.device)
    width = features["input_ids"].shape[1]
    features["attention_mask"] = torch.arange(width, device=flat_embeddings.device).unsqueeze(0) < lengths.unsqueeze(1)
    for key in ("cu_seq_lens_q", "cu_seq_lens_k", "max_length_q", "max_length_k", "seq_idx", "position_ids"):
        features.pop(key, None)
    return features


def to_scipy_coo(x: Tensor):
    """A sparse torch tensor as a ``scipy.sparse.coo_matrix``."""
    from scipy.sparse import coo_matrix

    x = x.coalesce()
    indices = x.indices().cpu().numpy()
    values = x.values()
    values = (values.float() if values.dtype == torch.bfloat16 else values).cpu().numpy()
    return coo_matrix((values, (indices[0], indices[1])), shape=x.shape)


def compute_count_vector(embeddings: Tensor) -> Tensor:
    """Per dimension, how many embeddings are non-zero there (int32; one embedding gives 0/1)."""
    if not embeddings.is_sparse:
        embeddings = embeddings.to_sparse()
    embeddings = embeddings.coalesce()
    counts = torch.zeros(embeddings.size(-1), device=embeddings.device, dtype=torch.int32)
    if embeddings.dim() == 1:
        counts[embeddings.indices().squeeze()] = 1
        return counts
    if embeddings.dim() != 2:
        raise ValueError(f"Expected 1D or 2D tensor, got {embeddings.dim()}D")
    if embeddings.values().numel() > 0:
        dims, dim_counts = torch.unique(embeddings.indices()[1], return_counts=True)
        counts[dims] = dim_counts.int()
    return counts
