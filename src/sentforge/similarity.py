"""Similarity functions between embeddings: cosine, dot, euclidean, manhattan.

Matrix forms give ``out[i, j] = sim(a[i], b[j])``; pairwise forms give ``out[i] = sim(a[i], b[i])``.
Distances are negated so that "higher is more similar" holds for every function, as in
sentence-transformers.
"""

from __future__ import annotations

from enum import Enum
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .errors import SentforgeError

ArrayLike = "list | np.ndarray | Tensor"


def _as_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, np.ndarray):
        t = torch.from_numpy(x)
    elif isinstance(x, list) and x and isinstance(x[0], Tensor):
        t = torch.stack(x)
    else:
        t = torch.as_tensor(np.asarray(x))
    if not t.is_floating_point():
        t = t.float()
    return t


def _as_batch(x) -> Tensor:
    t = _as_tensor(x)
    return t.unsqueeze(0) if t.dim() == 1 else t


def _two_batches(a, b) -> tuple[Tensor, Tensor]:
    """Both as matrices, refused with one clear error when their vectors differ in size."""
    a, b = _as_batch(a), _as_batch(b)
    if a.shape[-1] != b.shape[-1]:
        raise SentforgeError(
            f"Cannot compare embeddings of {a.shape[-1]} and {b.shape[-1]} values. Encode both sides with the same "
            "model and the same truncate_dim (or cut the longer ones to the shorter size and renormalise).")
    return a, b


def normalize_embeddings(embeddings: Tensor) -> Tensor:
    """L2-normalize each row (a zero row stays zero)."""
    return torch.nn.functional.normalize(embeddings, p=2, dim=-1)


def cos_sim(a, b) -> Tensor:
    """Cosine similarity matrix."""
    a, b = _two_batches(a, b)
    return normalize_embeddings(a) @ normalize_embeddings(b).T


def dot_score(a, b) -> Tensor:
    """Dot-product matrix."""
    a, b = _two_batches(a, b)
    return a @ b.T


def euclidean_sim(a, b) -> Tensor:
    """Negative euclidean distance matrix."""
    a, b = _two_batches(a, b)
    return -torch.cdist(a, b, p=2.0)


def manhattan_sim(a, b) -> Tensor:
    """Negative manhattan (L1) distance matrix."""
    a, b = _two_batches(a, b)
    return -torch.cdist(a, b, p=1.0)


def pairwise_cos_sim(a, b) -> Tensor:
    """Cosine similarity of row i of a with row i of b."""
    a, b = _as_tensor(a), _as_tensor(b)
    return (normalize_embeddings(a) * normalize_embeddings(b)).sum(dim=-1)


def pairwise_dot_score(a, b) -> Tensor:
    """Dot product of row i of a with row i of b."""
    a, b = _as_tensor(a), _as_tensor(b)
    return (a * b).sum(dim=-1)


def pairwise_euclidean_sim(a, b) -> Tensor:
    """Negative euclidean distance of row i of a to row i of b."""
    a, b = _as_tensor(a), _as_tensor(b)
    return -torch.sqrt(torch.sum((a - b) ** 2, dim=-1))


def pairwise_manhattan_sim(a, b) -> Tensor:
    """Negative manhattan distance of row i of a to row i of b."""
    a, b = _as_tensor(a), _as_tensor(b)
    return -torch.sum(torch.abs(a - b), dim=-1)


class SimilarityFunction(str, Enum):
    """The similarity functions a model can declare (saved as ``similarity_fn_name``)."""

    COSINE = "cosine"
    DOT_PRODUCT = "dot"
    DOT = "dot"  # alias of DOT_PRODUCT
    EUCLIDEAN = "euclidean"
    MANHATTAN = "manhattan"

    @staticmethod
    def to_similarity_fn(name: "str | SimilarityFunction") -> Callable[..., Tensor]:
        """Matrix similarity function for a name."""
        return _MATRIX[SimilarityFunction(_canonical(name))]

    @staticmethod
    def to_similarity_pairwise_fn(name: "str | SimilarityFunction") -> Callable[..., Tensor]:
        """Pairwise similarity function for a name."""
        return _PAIRWISE[SimilarityFunction(_canonical(name))]

    @staticmethod
    def possible_values() -> list[str]:
        return [m.value for m in SimilarityFunction]


def _canonical(name) -> str:
    value = name.value if isinstance(name, SimilarityFunction) else str(name).lower()
    aliases = {"cos_sim": "cosine", "cos": "cosine", "dot_score": "dot", "dot_product": "dot"}
    value = aliases.get(value, value)
    if value not in {"cosine", "dot", "euclidean", "manhattan"}:
        from .errors import SentforgeError

        raise SentforgeError(
            f"Unknown similarity function {name!r}. Use one of: cosine, dot, euclidean, manhattan."
        )
    return value


_MATRIX = {
    SimilarityFunction.COSINE: cos_sim,
    SimilarityFunction.DOT_PRODUCT: dot_score,
    SimilarityFunction.EUCLIDEAN: euclidean_sim,
    SimilarityFunction.MANHATTAN: manhattan_sim,
}
_PAIRWISE = {
    SimilarityFunction.COSINE: pairwise_cos_sim,
    SimilarityFunction.DOT_PRODUCT: pairwise_dot_score,
    SimilarityFunction.EUCLIDEAN: pairwise_euclidean_sim,
    SimilarityFunction.MANHATTAN: pairwise_manhattan_sim,
}
