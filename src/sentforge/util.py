"""Drop-in path `sentforge.util` (as `sentence_transformers.util`): similarity and search helpers."""

from .evaluation.paraphrase_mining import paraphrase_mining
from .quantization import quantize_embeddings
from .search import mine_hard_negatives, semantic_search
from .similarity import (
    cos_sim,
    dot_score,
    euclidean_sim,
    manhattan_sim,
    normalize_embeddings,
    pairwise_cos_sim,
    pairwise_dot_score,
    pairwise_euclidean_sim,
    pairwise_manhattan_sim,
)

pytorch_cos_sim = cos_sim

__all__ = [
    "cos_sim",
    "dot_score",
    "euclidean_sim",
    "manhattan_sim",
    "normalize_embeddings",
    "pairwise_cos_sim",
    "pairwise_dot_score",
    "pairwise_euclidean_sim",
    "pairwise_manhattan_sim",
    "pytorch_cos_sim",
    "semantic_search",
    "paraphrase_mining",
    "mine_hard_negatives",
    "quantize_embeddings",
]
