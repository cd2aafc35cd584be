"""Which scale scores are on, and the few labels that fall outside it.

Similarity scores come on a handful of usual scales: 0-1, 0-5 (STS-B), 1-5 (SICK relatedness),
0-10 and 0-100. The scale is the smallest usual one that holds the labels; a label outside the
scale the rest of the labels use and fill (a 7 or a 1.2 among scores spread over 0-1) is a typo to
report, not a reason to stretch every other score. Labels on no usual scale are mapped by the range they span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KNOWN_SCALES: tuple[tuple[float, float], ...] = ((0.0, 1.0), (0.0, 5.0), (1.0, 5.0), (0.0, 10.0), (0.0, 100.0))
"""Usual score scales, tightest first among those that share an end."""

MAX_OUTLIER_SHARE = 0.01
"""At most this share of the labels (and at least one, at most ``MAX_OUTLIERS``) may be outliers."""
MAX_OUTLIERS = 5
OUTLIER_WIDTH_FACTOR = 1.3
"""Values needing a scale this many times wider than the one the rest use are outliers."""
FILLED_SHARE = 0.8
CORNER_SHARE = 0.6
"""Closer values are outliers too when the rest spread over at least ``FILLED_SHARE`` of their scale
but would cover at most ``CORNER_SHARE`` of the wider scale the outliers need."""


@dataclass(frozen=True)
class LabelScale:
    """The (low, high) scale of the labels, whether it is a usual one, and the outlier rows."""

    low: float
    high: float
    known: bool
    outlier_rows: tuple[int, ...] = ()

    @property
    def is_unit(self) -> bool:
        return self.low == 0.0 and self.high == 1.0

    def describe(self) -> str:
        """E.g. ``the usual 1-5 scale`` or ``the range they span, -2 to 3``."""
        if self.known:
            return f"the usual {self.low:g}-{self.high:g} scale"
        return f"the range they span, {self.low:g} to {self.high:g}"

    def mapping(self) -> str:
        """The formula onto 0-1, e.g. ``(score - 1) / 4``."""
        width = f"{self.high - self.low:g}"
        return f"(score - {self.low:g}) / {width}" if self.low else f"score / {width}"


def smallest_known_scale(low: float, high: float) -> tuple[float, float] | None:
    """The narrowest usual scale holding [low, high], or None."""
    fitting = [scale for scale in KNOWN_SCALES if scale[0] <= low and high <= scale[1]]
    return min(fitting, key=lambda scale: scale[1] - scale[0]) if fitting else None


def infer_label_scale(labels: np.ndarray) -> LabelScale | None:
    """The scale of finite ``labels`` (row order kept for the outlier rows); None without two values."""
    finite_rows = np.flatnonzero(np.isfinite(labels))
    values = labels[finite_rows]
    if len(np.unique(values)) < 2:
        return None
    outliers = _outlier_positions(values)
    bulk = np.delete(values, outliers) if len(outliers) else values
    low, high = float(bulk.min()), float(bulk.max())
    known = smallest_known_scale(low, high)
    rows = tuple(int(finite_rows[i]) for i in outliers)
    if known is not None:
        return LabelScale(known[0], known[1], True, rows)
    return LabelScale(low, high, False, rows)


def _outlier_positions(values: np.ndarray) -> np.ndarray:
    """Positions of a few extreme values that need a much wider usual scale than all the others."""
    allowed = min(MAX_OUTLIERS, max(1, int(len(values) * MAX_OUTLIER_SHARE)))
    if len(values) < 10:
        return np.array([], dtype=int)
    order = np.argsort(values, kind="stable")
    for count in range(1, allowed + 1):
        for kept in (order[count:], order[:-count]):  # drop the lowest or the highest `count`
            bulk = values[kept]
            bulk_scale = smallest_known_scale(float(bulk.min()), float(bulk.max()))
            if bulk_scale is None:
                continue
            dropped = np.setdiff1d(order, kept)
            if _outside_the_bulk_scale(values[dropped], bulk, bulk_scale):
                return np.sort(dropped)
    return np.array([], dtype=int)


def _outside_the_bulk_scale(dropped: np.ndarray, bulk: np.ndarray, scale: tuple[float, float]) -> bool:
    """True when every dropped value lies outside ``scale``, the usual scale of all the other labels, and
    either far outside it, or the others fill that scale while the scale all labels need would leave
    them in a small corner of it (a 1.2 among scores spread over 0-1 would put them all in 0-0.2 of 0-5)."""
    low, high = scale
    width = high - low
    outside = (dropped < low) | (dropped > high)
    if not outside.all():
        return False
    needed_low = min(low, float(dropped.min()))
    needed_high = max(high, float(dropped.max()))
    if (needed_high - needed_low) >= OUTLIER_WIDTH_FACTOR * width:
        return True
    spread = float(bulk.max() - bulk.min())
    wider = smallest_known_scale(needed_low, needed_high) or (needed_low, needed_high)
    return spread >= FILLED_SHARE * width and spread <= CORNER_SHARE * (wider[1] - wider[0])
