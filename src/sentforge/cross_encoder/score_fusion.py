"""Fuse a reranker's scores with the retriever's: ``w * z(reranker) + (1 - w) * z(cosine)`` per query.

Scores are standardised within each query's retrieved list (mean 0, deviation 1), so the weight means
the same for any reranker's logit scale. ``train-reranker`` chooses ``w`` on its held-out queries
(0: the retriever's order, 1: the reranker's alone) and writes it to the model folder; ``search`` and
``serve`` read it from there. A reranker trained on little data can still order the top hits worse
than the retriever; the held-out split then picks a small weight instead of a worse search.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

FUSION_FILE = "score_fusion.json"
WEIGHTS = tuple(round(i / 20, 2) for i in range(21))
"""Reranker weights tried on the held-out queries: 0, 0.05, ..., 1."""


def standardised(scores: Sequence[float]) -> np.ndarray:
    """Scores minus their mean, over their deviation (all zero when they are all equal)."""
    values = np.asarray(scores, dtype=np.float64)
    spread = values.std()
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def fused(rerank_scores: Sequence[float], retrieval_scores: Sequence[float], weight: float) -> np.ndarray:
    """One query's fused scores for the reranker weight ``weight``."""
    return weight * standardised(rerank_scores) + (1.0 - weight) * standardised(retrieval_scores)


@dataclass
class ScoredQuery:
    """One held-out query's retrieved documents: relevance, reranker and retriever scores."""

    relevant: list[int]
    rerank: np.ndarray
    retrieval: np.ndarray
    positives: int


def score_queries(model: Any, samples: list[dict[str, Any]], retrieval_scores: list[list[float]],
                  batch_size: int = 64, known: list[np.ndarray | None] | None = None) -> list[ScoredQuery]:
    """Score every (query, retrieved document) pair once with ``model``. ``known``: scores already
    computed per sample in document order (an evaluator's ``last_scores``); None entries are left to
    score (a query none of whose positives was retrieved scores zero whatever the order)."""
    known = list(known) if known is not None and len(known) == len(samples) else [None] * len(samples)
    for i, sample in enumerate(samples):
        if known[i] is None and not any(doc in sample["positive"] for doc in sample["documents"]):
            known[i] = np.zeros(len(sample["documents"]))  # nothing relevant retrieved: any order scores 0
    todo = [i for i, scores in enumerate(known) if scores is None]
    pairs = [[samples[i]["query"], doc] for i in todo for doc in samples[i]["documents"]]
    fresh = model.predict(pairs, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=False) \
        if pairs else np.array([])
    per_sample, offset = list(known), 0
    for i in todo:
        count = len(samples[i]["documents"])
        per_sample[i] = fresh[offset:offset + count]
        offset += count
    return [ScoredQuery([int(doc in sample["positive"]) for doc in sample["documents"]],
                        np.asarray(scores, dtype=np.float64).reshape(-1), np.asarray(cosines, dtype=np.float64),
                        len(sample["positive"]))
            for sample, scores, cosines in zip(samples, per_sample, retrieval_scores)]


def metrics_at(evaluator: Any, queries: list[ScoredQuery], weight: float) -> dict[str, float]:
    """MAP, MRR@k and nDCG@k of the fused order (``evaluator`` supplies k and the metric definitions)."""
    per_query = [evaluator.compute_metrics(q.relevant, fused(q.rerank, q.retrieval, weight), q.positives)
                 for q in queries]
    mrr, ndcg, ap = (float(np.mean(values)) for values in zip(*per_query))
    return {"map": ap, f"mrr@{evaluator.at_k}": mrr, f"ndcg@{evaluator.at_k}": ndcg}


def choose_weight(evaluator: Any, queries: list[ScoredQuery]) -> tuple[float, dict[float, float]]:
    """The reranker weight with the best nDCG@k (the smallest among equals) and nDCG@k for each weight."""
    key = f"ndcg@{evaluator.at_k}"
    table = {weight: metrics_at(evaluator, queries, weight)[key] for weight in WEIGHTS}
    best = max(table.values())
    return min(weight for weight, value in table.items() if value == best), table


def save_fusion(folder: str, weight: float, chosen_on: str, table: dict[float, float]) -> None:
    """Write the chosen weight (and how it was chosen) next to the model."""
    record = {"reranker_weight": weight, "normalisation": "per-query standard score", "chosen_on": chosen_on,
              "ndcg_by_weight": {f"{w:g}": round(v, 6) for w, v in table.items()}}
    from ..format import write_file_atomically

    write_file_atomically(os.path.join(folder, FUSION_FILE), (json.dumps(record, indent=2) + "\n").encode("utf-8"))


def load_fusion_weight(folder: str) -> float | None:
    """The reranker weight saved in ``folder``, or None (the reranker's scores alone)."""
    path = os.path.join(folder, FUSION_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        weight = json.load(handle).get("reranker_weight")
    return float(weight) if isinstance(weight, (int, float)) and 0 <= weight <= 1 else None
