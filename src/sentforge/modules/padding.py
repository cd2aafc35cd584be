"""Padding token-id lists into batch tensors (shared by encode and the training collator)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def pad_token_ids(sequences: list[list[int]], pad_id: int, left: bool = False) -> tuple[Tensor, Tensor]:
    """``(input_ids, attention_mask)`` as int64 ``[rows, longest]`` tensors, padded right (or left)."""
    width = max(len(ids) for ids in sequences)
    input_ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, ids in enumerate(sequences):
        span = slice(width - len(ids), width) if left else slice(0, len(ids))
        input_ids[row, span] = ids
        mask[row, span] = 1
    return torch.from_numpy(input_ids), torch.from_numpy(mask)
