"""Similarity functions, as ``sentence_transformers.util.similarity``: the dense ones of
:mod:`sentforge.similarity`, plus the AnglE similarity and late-interaction MaxSim scores."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from ..similarity import (
    SimilarityFunction,
    cos_sim,
    dot_score,
    euclidean_sim,
    manhattan_sim,
    pairwise_cos_sim,
    pairwise_dot_score,
    pairwise_euclidean_sim,
    pairwise_manhattan_sim,
)
from .maxsim import maxsim, maxsim_pairwise, mean_maxsim, mean_maxsim_pairwise
from .tensor import as_float_tensor

pytorch_cos_sim = cos_sim

__all__ = [
    "SimilarityFunction",
    "cos_sim",
    "dot_score",
    "euclidean_sim",
    "manhattan_sim",
    "maxsim",
    "maxsim_pairwise",
    "mean_maxsim",
    "mean_maxsim_pairwise",
    "pairwise_angle_sim",
    "pairwise_cos_sim",
    "pairwise_dot_score",
    "pairwise_euclidean_sim",
    "pairwise_manhattan_sim",
    "pytorch_cos_sim",
]


def pairwise_angle_sim(x: list | np.ndarray | Tensor, y: list | np.ndarray | Tensor) -> Tensor:
    """AnglE similarity of row i of x with row i of y: ``|cos + sin|`` of the two halves, after L2
    normalization (an odd dimension is padded with one zero)."""
    x, y = as_float_tensor(x), as_float_tensor(y)
    if x.is_sparse:
        x = x.to_dense()
    if y.is_sparse:
        y = y.to_dense()
    if x.shape[1] % 2 != 0:
        x = torch.nn.functional.pad(x, (0, 1), mode="constant", value=0)
        y = torch.nn.functional.pad(y, (0, 1), mode="constant", value=0)
    x = torch.nn.functional.normalize(x, p=2, dim=1)
    y = torch.nn.functional.normalize(y, p=2, dim=1)
    cosines = torch.sum(x * y, dim=1)
    first_x, last_x = torch.chunk(x, 2, dim=1)
    first_y, last_y = torch.chunk(y, 2, dim=1)
    sines = torch.sum(last_x * first_y - first_x * last_y, dim=1)
    return torch.abs(cosines + sines)
