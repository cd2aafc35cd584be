"""Do the labels mean what the loss thinks? NLI classes used as similarity, and inverted labels.

Both checks compare the labels with the base model's own similarity of each pair on a seeded
sample: a model that already ranks pairs reasonably well disagrees sharply with labels that say the
opposite (seed-003's NLI run, where 0 meant entailment, ended with Spearman -0.57 after training).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import spearmanr

from .report import Finding

PairSimilarity = Callable[[list[str], list[str]], np.ndarray]
"""The base model's similarity (cosine) of each pair ``(a[i], b[i])``."""

INVERTED_SPEARMAN = -0.2
NLI_LABEL_SETS = ({0.0, 1.0, 2.0}, {0.0, 0.5, 1.0})


def labels_as_floats(table: pa.Table, label: str | None) -> np.ndarray | None:
    """Labels as floats (missing -> NaN), or None without a numeric label column."""
    if label is None or label not in table.column_names:
        return None
    column = table.column(label)
    if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_boolean(column.type)):
        return None
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)


def sample_rows(rows: np.ndarray, sample_size: int, seed: int) -> np.ndarray:
    """A seeded random subset of ``rows`` (kept in order), or all of them when few enough."""
    if len(rows) <= sample_size:
        return rows
    return np.sort(np.random.default_rng(seed).choice(rows, size=sample_size, replace=False))


def label_meaning_findings(
    table: pa.Table,
    text_columns: list[str],
    label: str | None,
    name: str,
    pair_similarity: PairSimilarity | None,
    allow_inverted: bool,
    sample_size: int,
    seed: int,
) -> list[Finding]:
    """NLI classes used as similarity, and labels that run against the base model's cosine.

    ``name`` says which data it is ("train" or "eval"); the first two text columns form the pairs.
    """
    labels = labels_as_floats(table, label)
    if labels is None or len(text_columns) < 2:
        return []
    values = set(np.unique(labels[~np.isnan(labels)]).tolist())
    if len(values) < 2:
        return []
    nli_like = values in NLI_LABEL_SETS
    first = table.column(text_columns[0]).to_pylist()
    second = table.column(text_columns[1]).to_pylist()
    usable = np.flatnonzero([bool(a) and bool(b) and not np.isnan(y) for a, b, y in zip(first, second, labels)])
    sample = sample_rows(usable, sample_size, seed)
    if pair_similarity is None or len(sample) < 3:
        if nli_like and values == {0.0, 1.0, 2.0}:
            return [_nli_finding(name, values, cosine_gap=None)]
        return []
    sims = np.asarray(pair_similarity([first[i] for i in sample], [second[i] for i in sample]), dtype=float)
    sampled_labels = labels[sample]
    low, high = min(values), max(values)
    cosine_gap = _mean(sims, sampled_labels == low) - _mean(sims, sampled_labels == high)
    reversed_order = cosine_gap > 0
    rho = float(spearmanr(sampled_labels, sims).statistic)
    findings = []
    if nli_like and reversed_order:
        findings.append(_nli_finding(name, values, cosine_gap))
    if rho < INVERTED_SPEARMAN or (nli_like and reversed_order and rho < 0):
        findings.append(Finding(
            "labels-inverted", "warning" if allow_inverted else "error",
            f"{name} labels run against the base model: Spearman correlation between '{label}' and "
            f"the base model's cosine is {rho:.3f} on {len(sample)} sampled pairs, so pairs the model finds "
            "similar carry low labels. Training on them teaches the opposite of similarity.",
            rho,
            f"Check what the label means: if higher means less similar, use 1 - {label} (or "
            f"max - {label}). If the labels are right and the base model is wrong, pass "
            "--allow-inverted-labels.",
            name,
        ))
    return findings


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else float("nan")


def _nli_finding(name: str, values: set[float], cosine_gap: float | None) -> Finding:
    """NLI-like label values; ``cosine_gap`` is mean cosine of the lowest-label pairs minus the highest's."""
    shown = "/".join(f"{v:g}" for v in sorted(values))
    evidence = (
        f"; pairs labelled {min(values):g} are more similar by the base model's cosine than pairs labelled "
        f"{max(values):g} (by {cosine_gap:.3f} on average), as for NLI entailment (0) vs contradiction"
        if cosine_gap is not None
        else ""
    )
    return Finding(
        "nli-labels", "warning",
        f"{name} labels take only the values {shown}, like NLI classes (0 = entailment, then neutral, "
        f"contradiction){evidence}. Used as similarity scores they say the opposite of what they mean "
        "(a known mistake: a CosineSimilarityLoss run on NLI labels ended with Spearman -0.57).",
        cosine_gap if cosine_gap is not None else len(values),
        "Map the classes to similarity (entailment -> 1.0, neutral -> 0.5, contradiction -> 0.0), or "
        "build (anchor, entailment, contradiction) triplets for MultipleNegativesRankingLoss.",
        name,
    )
