"""Search over embeddings, as ``sentence_transformers.util.retrieval``: semantic search, paraphrase
mining and community detection (clusters of mutually close embeddings)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor
from tqdm.autonotebook import tqdm

from ..evaluation.paraphrase_mining import paraphrase_mining, paraphrase_mining_embeddings
from ..search import semantic_search
from ..similarity import normalize_embeddings
from .tensor import as_tensor

__all__ = [
    "community_detection",
    "information_retrieval",
    "paraphrase_mining",
    "paraphrase_mining_embeddings",
    "semantic_search",
]


def information_retrieval(*args, **kwargs) -> list[list[dict[str, int | float]]]:
    """Another name of :func:`semantic_search`."""
    return semantic_search(*args, **kwargs)


def community_detection(
    embeddings: Tensor | np.ndarray,
    threshold: float = 0.75,
    min_community_size: int = 10,
    batch_size: int = 1024,
    show_progress_bar: bool = False,
) -> list[list[int]]:
    """Groups of at least ``min_community_size`` embeddings within cosine ``threshold`` of a center.

    Each community is a list of indices, its center first; communities do not overlap and come
    largest first. Candidates are found ``batch_size`` rows at a time.
    """
    if len(embeddings) == 0:
        return []
    embeddings = as_tensor(embeddings)
    if embeddings.ndim == 1:
        embeddings = embeddings.unsqueeze(0)
    if len(embeddings) < min_community_size:
        return []
    threshold = torch.tensor(threshold, device=embeddings.device)
    embeddings = normalize_embeddings(embeddings)

    candidates = []  # (center, members within the threshold, closest first)
    sort_max_size = min(max(2 * min_community_size, 50), len(embeddings))
    starts = range(0, len(embeddings), batch_size)
    for start in tqdm(starts, desc="Finding clusters", disable=not show_progress_bar):
        scores = embeddings[start : start + batch_size] @ embeddings.T
        top_values, _ = scores.topk(k=min_community_size, largest=True)
        large_enough = top_values[:, -1] >= threshold
        if not large_enough.any():
            continue
        scores = scores[large_enough]
        top_values, top_indices = scores.topk(k=sort_max_size, largest=True)
        # Widen the search while some center still has neighbours above the threshold at its edge.
        while sort_max_size < len(embeddings) and (top_values[:, -1] >= threshold).any():
            sort_max_size = min(2 * sort_max_size, len(embeddings))
            top_values, top_indices = scores.topk(k=sort_max_size, largest=True)
        counts = (top_values >= threshold).sum(1).tolist()
        centers = (large_enough.nonzero(as_tuple=True)[0] + start).tolist()
        for center, count, indices in zip(centers, counts, top_indices.cpu()):
            candidates.append((center, indices[:count].numpy().astype(np.uint32)))

    candidates.sort(key=lambda candidate: len(candidate[1]), reverse=True)
    communities = []
    used = np.zeros(len(embeddings), dtype=bool)
    for center, members in candidates:
        if used[center]:
            continue
        free = members[~used[members]]
        if len(free) >= min_community_size:
            community = [center] + free[free != center].tolist()
            communities.append(community)
            used[community] = True
    return sorted(communities, key=len, reverse=True)
