"""Quality at smaller dimensions: the evaluator run again with embeddings cut to 1/2 and 1/4.

A model trained with MatryoshkaLoss keeps most of its quality when its embeddings are truncated;
this measures how much, for the log, metrics.json and the model card.
"""

from __future__ import annotations

import copy
from typing import Any

from .recipe_choice import MATRYOSHKA_FRACTIONS


def matryoshka_dims(model: Any) -> list[int]:
    """The full embedding dimension, its half and its quarter (distinct, each at least 1)."""
    full = int(model.get_sentence_embedding_dimension() or 0)
    dims = [full // fraction for fraction in MATRYOSHKA_FRACTIONS if full // fraction > 0]
    return list(dict.fromkeys(dims))


def evaluate_truncated(evaluator: Any, model: Any, dims: list[int]) -> dict[int, dict[str, float]]:
    """The evaluator's metrics with embeddings cut to each of ``dims`` (the full dimension is not re-run)."""
    full = int(model.get_sentence_embedding_dimension() or 0)
    results: dict[int, dict[str, float]] = {}
    for dim in dims:
        if dim >= full:
            continue
        truncated = copy.copy(evaluator)
        truncated.truncate_dim = dim
        metrics = truncated(model)
        results[dim] = metrics if isinstance(metrics, dict) else {"evaluator": float(metrics)}
    return results


def truncation_lines(primary: str, full_dim: int, final: dict[str, float], baseline: dict[str, float],
                     truncated: dict[int, dict[str, float]], truncated_baseline: dict[int, dict[str, float]]) -> list[str]:
    """One line per dimension: the primary metric, fine-tuned (and base model) with its share of full quality."""
    lines = []
    full = final.get(primary)
    for dim, metrics in truncated.items():
        value = metrics.get(primary)
        if value is None:
            continue
        share = f" ({value / full:.1%} of the full {full_dim}-d score)" if full else ""
        base = truncated_baseline.get(dim, {}).get(primary)
        base_text = f"; base model {base:.4f}" if base is not None else ""
        lines.append(f"{primary} at {dim} dimensions: {value:.4f}{share}{base_text}")
    return lines


def truncation_record(truncated: dict[int, dict[str, float]], baseline: dict[int, dict[str, float]]) -> dict[str, Any]:
    """JSON-ready for metrics.json: {"192": {"final": {...}, "baseline": {...}}, ...}."""
    return {str(dim): {"final": metrics, "baseline": baseline.get(dim, {})} for dim, metrics in truncated.items()}
