"""First-stage retrieval for reranking: each query's top-k passages by a bi-encoder."""

from __future__ import annotations

from typing import Any

from ..search import semantic_search


def retrieve_top_k(retriever: Any, queries: list[str], corpus: list[str], top_k: int,
                   batch_size: int = 64) -> list[list[int]]:
    """Corpus positions of each query's ``top_k`` passages, best first (cosine of normalized embeddings)."""
    return retrieve_top_k_scored(retriever, queries, corpus, top_k, batch_size)[0]


def retrieve_top_k_scored(retriever: Any, queries: list[str], corpus: list[str], top_k: int,
                          batch_size: int = 64) -> tuple[list[list[int]], list[list[float]]]:
    """Each query's ``top_k`` corpus positions and their cosines, best first."""
    corpus_embeddings = retriever.encode(corpus, batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_tensor=True, show_progress_bar=False)
    query_embeddings = retriever.encode(queries, batch_size=batch_size, normalize_embeddings=True,
                                        convert_to_tensor=True, show_progress_bar=False)
    hits = semantic_search(query_embeddings, corpus_embeddings, top_k=top_k)
    return ([[int(hit["corpus_id"]) for hit in query_hits] for query_hits in hits],
            [[float(hit["score"]) for hit in query_hits] for query_hits in hits])


def reranking_samples(queries: list[str], positives: list[list[str]], corpus: list[str],
                      retrieved: list[list[int]]) -> list[dict[str, Any]]:
    """CrossEncoderRerankingEvaluator samples: each query, its positives, and its retrieved documents in order."""
    return [
        {"query": query, "positive": list(relevant), "documents": [corpus[i] for i in hits]}
        for query, relevant, hits in zip(queries, positives, retrieved)
    ]
