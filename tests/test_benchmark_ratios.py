"""The benchmarks' ratios: the per-round ratio follows each round's pair, not the medians."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import common  # noqa: E402


def test_paired_ratio_is_the_median_of_each_rounds_ratio():
    # The machine slows down 3x after two rounds; in every round sentforge takes half ST's time.
    seconds = {"ST": [2.0, 2.0, 6.0, 6.0, 6.0], "sentforge": [1.0, 1.0, 3.0, 3.0, 3.0]}
    assert common.paired_ratio(seconds, "sentforge", "ST") == "2.00x"


def test_paired_ratio_differs_from_the_ratio_of_medians_under_drift():
    seconds = {"ST": [1.0, 1.0, 3.0], "sentforge": [0.8, 2.0, 2.0]}
    assert common.paired_ratio(seconds, "sentforge", "ST") == "1.25x"  # per round: 1.25, 0.5, 1.5
    assert common.ratio(1 / 2.0, 1 / 1.0) == "0.50x"  # medians: sentforge 2.0 s, ST 1.0 s


def test_paired_ratio_without_rounds_is_not_a_number():
    assert common.paired_ratio({"ST": [], "sentforge": []}, "sentforge", "ST") == "n/a"
