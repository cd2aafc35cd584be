"""MaxSim (ColBERT late interaction) between multi-vector embeddings.

An item is a ``(tokens, dim)`` matrix; a batch is a padded ``(items, tokens, dim)`` tensor (all-zero
rows are padding unless a mask says otherwise), an array, or a list of per-item matrices of
different lengths. ``maxsim(a, b)[i, j]`` sums, over the tokens of query ``a[i]``, the best dot
product with any token of document ``b[j]``. A document without any real token scores -1e9.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import Tensor

from .tensor import as_tensor

logger = logging.getLogger(__name__)

EMPTY_DOCUMENT_SCORE = -1e9
DEFAULT_CHUNK_ELEMENTS = 100_000_000  # ~400 MB of float32 scores per chunk

MultiVectors = list | np.ndarray | Tensor


def maxsim(
    a: MultiVectors,
    b: MultiVectors,
    a_mask: Tensor | None = None,
    b_mask: Tensor | None = None,
    chunk_elements: int | None = None,
    length_normalize: bool = False,
    device: str | torch.device | None = None,
) -> Tensor:
    """``(len(a), len(b))`` MaxSim scores; ``length_normalize`` divides by each query's token count."""
    queries, documents, counts, result_device = _prepare(a, b, a_mask, b_mask, length_normalize, device)
    if queries is None:
        return torch.zeros(_count(a), _count(b), dtype=torch.float32, device=result_device)
    (q, q_mask), (d, d_mask) = queries, documents
    budget = chunk_elements or DEFAULT_CHUNK_ELEMENTS
    per_document = max(q.shape[0] * q.shape[1] * max(d.shape[1], 1), 1)
    step = max(budget // per_document, 1)
    chunks = []
    for start in range(0, d.shape[0], step):
        chunks.append(_score_all(q, q_mask, d[start : start + step], d_mask[start : start + step]))
    scores = torch.cat(chunks, dim=1).to(result_device)
    return scores if counts is None else scores / counts.to(scores.device, scores.dtype).unsqueeze(1)


def maxsim_pairwise(
    a: MultiVectors,
    b: MultiVectors,
    a_mask: Tensor | None = None,
    b_mask: Tensor | None = None,
    chunk_elements: int | None = None,
    length_normalize: bool = False,
    device: str | torch.device | None = None,
) -> Tensor:
    """MaxSim of query i with document i, for equally many queries and documents."""
    if _count(a) != _count(b):
        raise ValueError(
            f"`a` and `b` must hold the same number of items to score as pairs, got {_count(a)} and {_count(b)}."
        )
    queries, documents, counts, result_device = _prepare(a, b, a_mask, b_mask, length_normalize, device)
    if queries is None:
        return torch.zeros(0, dtype=torch.float32, device=result_device)
    (q, q_mask), (d, d_mask) = queries, documents
    scores = _score_pairs(q, q_mask, d, d_mask).to(result_device)
    return scores if counts is None else scores / counts.to(scores.device, scores.dtype)


def mean_maxsim(a: MultiVectors, b: MultiVectors, a_mask: Tensor | None = None, b_mask: Tensor | None = None,
                chunk_elements: int | None = None, length_normalize: bool = True,
                device: str | torch.device | None = None) -> Tensor:
    """:func:`maxsim` divided by each query's token count (the mean over its tokens)."""
    return maxsim(a, b, a_mask, b_mask, chunk_elements, length_normalize, device)


def mean_maxsim_pairwise(a: MultiVectors, b: MultiVectors, a_mask: Tensor | None = None,
                         b_mask: Tensor | None = None, chunk_elements: int | None = None,
                         length_normalize: bool = True, device: str | torch.device | None = None) -> Tensor:
    """:func:`maxsim_pairwise` divided by each query's token count."""
    return maxsim_pairwise(a, b, a_mask, b_mask, chunk_elements, length_normalize, device)


def _count(items: MultiVectors) -> int:
    """Number of items, a single ``(tokens, dim)`` matrix counting as one."""
    if isinstance(items, (Tensor, np.ndarray)) and items.ndim == 2:
        return 1
    return len(items)


def _prepare(a, b, a_mask, b_mask, length_normalize: bool, device):
    """Padded (embeddings, bool mask) for both sides on the scoring device, query token counts, result device."""
    result_device = _device_of(b) or _device_of(a) or torch.device("cpu")
    if _count(a) == 0 or _count(b) == 0:
        return None, None, None, _device_of(b) or _device_of(a)
    scoring_device = torch.device(device) if device is not None else result_device
    q, q_mask = _padded(a, a_mask, "a_mask")
    d, d_mask = _padded(b, b_mask, "b_mask")
    counts = q_mask.sum(dim=-1).clamp(min=1) if length_normalize else None
    q, q_mask, d, d_mask = (t.to(scoring_device) for t in (q, q_mask, d, d_mask))
    return (q, q_mask), (d, d_mask), counts, result_device


def _device_of(items: MultiVectors) -> torch.device | None:
    if isinstance(items, Tensor):
        return items.device
    if isinstance(items, list) and items and isinstance(items[0], Tensor):
        return items[0].device
    return None


def _padded(items: MultiVectors, mask, name: str) -> tuple[Tensor, Tensor]:
    """``(items, tokens, dim)`` floats and a ``(items, tokens)`` bool mask of the real tokens."""
    if isinstance(mask, (list, tuple)):
        mask = torch.nn.utils.rnn.pad_sequence([as_tensor(m) for m in mask], batch_first=True)
    elif isinstance(mask, np.ndarray):
        mask = as_tensor(mask)
    elif mask is not None and not isinstance(mask, Tensor):
        raise TypeError(
            f"`{name}` must be a tensor, an ndarray, or a list of per-item masks, not {type(mask).__name__}."
        )
    if isinstance(items, (Tensor, np.ndarray)) and items.ndim == 2:  # one item
        items = items[None]
        mask = mask.unsqueeze(0) if mask is not None and mask.ndim == 1 else mask
    if isinstance(items, list):
        rows = [as_tensor(item) for item in items]
        rows = [r if r.is_floating_point() else r.float() for r in rows]
        lengths = torch.tensor([r.shape[0] for r in rows])
        padded = torch.nn.utils.rnn.pad_sequence(rows, batch_first=True)
        if mask is None:
            mask = torch.arange(padded.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    else:
        padded = as_tensor(items)
        padded = padded if padded.is_floating_point() else padded.float()
        if mask is None:
            mask = padded.any(dim=-1)
    if mask.shape[-1] != padded.shape[1]:
        raise ValueError(f"`{name}` covers {mask.shape[-1]} tokens, but the padded embeddings have {padded.shape[1]}.")
    return padded, mask.to(padded.device).bool().expand(padded.shape[0], -1)


def _score_all(q: Tensor, q_mask: Tensor, d: Tensor, d_mask: Tensor) -> Tensor:
    """``(queries, documents)`` scores: max over document tokens (padding excluded), then the sum
    over the real query tokens (in float32)."""
    if d.shape[1] == 0:
        return _mark_empty(q.new_zeros(q.shape[0], d.shape[0], dtype=torch.float32), d_mask.new_ones(1, d.shape[0]))
    scores = torch.einsum("ash,bth->abst", q, d)
    scores = scores.masked_fill(~d_mask[None, :, None, :], torch.finfo(scores.dtype).min)
    totals = (scores.max(dim=-1).values.float() * q_mask[:, None, :]).sum(dim=-1)
    return _mark_empty(totals, ~d_mask.any(dim=-1)[None, :])


def _score_pairs(q: Tensor, q_mask: Tensor, d: Tensor, d_mask: Tensor) -> Tensor:
    """Score of query i against document i, reduced as in :func:`_score_all`."""
    if d.shape[1] == 0:
        return _mark_empty(q.new_zeros(d.shape[0], dtype=torch.float32), d_mask.new_ones(d.shape[0]))
    scores = torch.einsum("bsh,bth->bst", q, d)
    scores = scores.masked_fill(~d_mask[:, None, :], torch.finfo(scores.dtype).min)
    totals = (scores.max(dim=-1).values.float() * q_mask).sum(dim=-1)
    return _mark_empty(totals, ~d_mask.any(dim=-1))


def _mark_empty(scores: Tensor, empty: Tensor) -> Tensor:
    if empty.device.type == "cpu" and bool(empty.any()):
        logger.warning(
            "Some documents have no scoreable token (all masked, or zero token vectors); they score "
            f"{EMPTY_DOCUMENT_SCORE:.0e}, below every real document."
        )
    return scores.masked_fill(empty, EMPTY_DOCUMENT_SCORE)
