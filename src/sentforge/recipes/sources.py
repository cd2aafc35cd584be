"""Load the data a recipe names: a file, a hub dataset id, or a shared benchmark set by name.

Shared set names (``name:split``) stand for the benchmark sets of ``sentforge.data``; they read the
shared data folder when there is one (see ``sentforge.data.shared_data_root``) and the same sets
on the Hugging Face Hub otherwise:

==================  ======================================  ==================================
name                columns                                 Hub copy
==================  ======================================  ==================================
stsb:SPLIT          sentence1, sentence2, score (0-1)       sentence-transformers/stsb
mrpc:SPLIT          sentence1, sentence2, label (0/1)       nyu-mll/glue (mrpc)
scifact:SPLIT       query, abstract (positive pairs only)   BeIR/scifact
nli:triplets        anchor, positive, negative              sentence-transformers/all-nli
nli:pair-class      premise, hypothesis, label              (made from the triplets)
==================  ======================================  ==================================

``nli:pair-class`` turns each triplet into (anchor, positive, 0) and (anchor, negative, 2): NLI
class ids as in sentence-transformers/all-nli "pair-class" (0 = entailment, 2 = contradiction).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import datasets

from ..data import load_data, load_mrpc, load_nli_triplets, load_scifact_pairs, load_stsb
from ..data import shared_data_root
from ..errors import SentforgeError
from .recipe import split_source

_HUB_COPIES = {
    "stsb": "sentence-transformers/stsb",
    "mrpc": "nyu-mll/glue",
    "scifact": "BeIR/scifact",
    "nli": "sentence-transformers/all-nli",
}
ENTAILMENT, CONTRADICTION = 0, 2


def load_source(source: str, columns: list[str] | None = None, what: str = "data.train") -> datasets.Dataset:
    """Rows for a recipe's ``data.train``/``data.eval``, keeping ``columns`` (in that order) if given."""
    name, split = split_source(source)
    if name in _HUB_COPIES and not Path(source).exists():
        dataset = _shared_set(name, split, what)
    else:
        dataset = load_data(name, split=split)
    if columns:
        absent = [column for column in columns if column not in dataset.column_names]
        if absent:
            raise SentforgeError(
                f"`{what}` ({source}) has no column {', '.join(map(repr, absent))}; its columns are "
                f"{', '.join(dataset.column_names)}. Fix the column list of the recipe's `data`."
            )
        dataset = dataset.select_columns(columns)
    return dataset


def _shared_set(name: str, split: str | None, what: str) -> datasets.Dataset:
    loaders: dict[str, Callable[..., datasets.Dataset]] = {
        "stsb": lambda root: load_stsb(split or "train", root=root),
        "mrpc": lambda root: load_mrpc(split or "train", root=root),
        "scifact": lambda root: load_scifact_pairs(split or "train", root=root),
        "nli": lambda root: _nli(split, root, what),
    }
    try:
        root = str(shared_data_root())
    except SentforgeError:
        root = _HUB_COPIES[name]  # no shared folder here: the same set from the Hub
    return loaders[name](root)


def _nli(split: str | None, root: str, what: str) -> datasets.Dataset:
    triplets = load_nli_triplets(root=root)
    if split in (None, "triplets"):
        return triplets
    if split != "pair-class":
        raise SentforgeError(f"`{what}`: the nli set has no part '{split}'. Use nli:triplets or nli:pair-class.")
    anchors, positives, negatives = (list(triplets[column]) for column in ("anchor", "positive", "negative"))
    return datasets.Dataset.from_dict(
        {
            "premise": anchors + anchors,
            "hypothesis": positives + negatives,
            "label": [ENTAILMENT] * len(anchors) + [CONTRADICTION] * len(anchors),
        }
    )
