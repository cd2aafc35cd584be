"""Reorder an index's hits with a reranker, fused with the retriever's cosine where the reranker's folder
holds a chosen weight (see :mod:`score_fusion`); shared by ``sentforge search`` and the server."""

from __future__ import annotations

from typing import Any

import numpy as np

from .score_fusion import fused


def reranked_rows(reranker: Any, query: str, hits: Any, k: int, batch_size: int = 32) -> list[dict[str, Any]]:
    """Rows ``{"rank", "id", "score", "retrieval_score", "retrieval_rank", "text"}`` of the ``k`` best hits;
    ``score`` is the reranker's, and ``fused_score`` is added (and orders the rows) when fusion is on."""
    if not len(hits):
        return []
    pairs = [[query, text] for text in hits.texts]
    scores = np.asarray(reranker.predict(pairs, batch_size=batch_size, convert_to_numpy=True,
                                        show_progress_bar=False), dtype=np.float64).reshape(-1)
    weight = getattr(reranker, "score_fusion_weight", None)
    order_by = scores if weight is None else fused(scores, hits.scores, weight)
    best = sorted(range(len(scores)), key=lambda i: -order_by[i])[:k]
    rows = []
    for rank, i in enumerate(best, start=1):
        row = {"rank": rank, "id": hits.ids[i], "score": float(scores[i]), "retrieval_score": hits.scores[i],
               "retrieval_rank": i + 1, "text": hits.texts[i]}
        if weight is not None:
            row["fused_score"] = float(order_by[i])
        rows.append(row)
    return rows
