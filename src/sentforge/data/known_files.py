"""Benchmark files that are not tables with a header, read by their own layout.

The STS benchmark ships ``sts-train.csv`` as headerless tab-separated fields, and SciFact keeps
its training pairs across ``queries.jsonl``, ``corpus.jsonl`` and ``qrels/train.tsv``. A file by
one of these names that does not read as a table is read as that benchmark, and the run says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import datasets

from .shared_sets import load_scifact_pairs, load_stsb

Loader = Callable[[Path], datasets.Dataset]


@dataclass(frozen=True)
class Layout:
    """How to read a benchmark file; ``always``: never a table of pairs, so skip the table reader."""

    description: str
    load: Loader
    always: bool

_STSB = re.compile(r"^sts-(train|dev|test)\.csv$")
_SCIFACT = re.compile(r"^(?:claims_(train|test)_with_evidence\.jsonl|(train|test)\.tsv)$")


def known_layout(path: Path) -> Layout | None:
    """How to read the benchmark file ``path``, or None when it is no benchmark file."""
    name = path.name
    if match := _STSB.match(name):
        split = match[1]
        return Layout(
            f"the STS benchmark's own layout (the {split} split; fields 5-7 are score 0-5, sentence1, sentence2)",
            lambda p: load_stsb(split, root=p.resolve().parent.parent, normalize=False),
            always=False,
        )
    if (match := _SCIFACT.match(name)) and _scifact_root(path) is not None:
        split = match[1] or match[2]
        return Layout(
            f"SciFact's {split} pairs (each claim with each abstract it cites, from queries.jsonl, "
            "corpus.jsonl and qrels)",
            lambda p: load_scifact_pairs(split, root=_scifact_root(p)),
            always=True,
        )
    return None


def _scifact_root(path: Path) -> Path | None:
    """The folder above ``scifact/`` when ``path`` sits in a SciFact folder with its corpus."""
    for folder in (path.resolve().parent, path.resolve().parent.parent):
        if (folder / "corpus.jsonl").is_file() and (folder / "queries.jsonl").is_file() and folder.name == "scifact":
            return folder.parent
    return None
