"""Small scoring functions the evaluators share, with the same definitions as scikit-learn's
``average_precision_score``, ``ndcg_score`` and ``matthews_corrcoef`` (tied scores included), so the
library needs no scikit-learn at run time.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


def _group_by_descending_score(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per distinct score, highest first: (sum of labels, count of items)."""
    distinct, inverse, counts = np.unique(-scores, return_inverse=True, return_counts=True)
    label_sums = np.zeros(len(distinct))
    np.add.at(label_sums, inverse.ravel(), labels)
    return label_sums, counts


def average_precision(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the precision-recall curve as sum over thresholds of (R_n - R_{n-1}) * P_n.

    Items with equal scores form one threshold. Returns 0.0 when there is no positive label.
    """
    labels = np.asarray(labels, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    n_positive = labels.sum()
    if n_positive == 0:
        return 0.0
    positives_per_group, items_per_group = _group_by_descending_score(labels, scores)
    true_positives = np.cumsum(positives_per_group)
    predicted = np.cumsum(items_per_group)
    precision = true_positives / predicted
    recall_gain = positives_per_group / n_positive
    return float(np.sum(recall_gain * precision))


def ndcg_at_k(relevance: Sequence[float], scores: Sequence[float], k: int) -> float:
    """nDCG@k of one ranking; tied scores share the average gain of their positions (as scikit-learn).

    Returns 0.0 when no item is relevant.
    """
    relevance = np.asarray(relevance, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    discount = 1.0 / np.log2(np.arange(len(relevance)) + 2)
    discount[k:] = 0.0
    ideal = float(np.sort(relevance)[::-1] @ discount)
    if ideal == 0.0:
        return 0.0
    gain_per_group, items_per_group = _group_by_descending_score(relevance, scores)
    group_ends = np.cumsum(items_per_group) - 1
    discount_cumsum = np.cumsum(discount)
    group_discounts = np.diff(discount_cumsum[group_ends], prepend=0.0)
    dcg = float(np.sum(gain_per_group / items_per_group * group_discounts))
    return dcg / ideal


def matthews_corrcoef(labels: Sequence[int], predictions: Sequence[int]) -> float:
    """Matthews correlation of binary labels and predictions (0.0 when undefined)."""
    labels = np.asarray(labels).astype(bool)
    predictions = np.asarray(predictions).astype(bool)
    tp = float(np.sum(labels & predictions))
    tn = float(np.sum(~labels & ~predictions))
    fp = float(np.sum(~labels & predictions))
    fn = float(np.sum(labels & ~predictions))
    denominator = math.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    return 0.0 if denominator == 0 else (tp * tn - fp * fn) / denominator


def dcg_at_k(relevances: Sequence[int], k: int) -> float:
    """Discounted cumulative gain of a ranked relevance list, cut at k."""
    return float(sum(rel / np.log2(i + 2) for i, rel in enumerate(relevances[:k])))
