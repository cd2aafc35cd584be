"""Find the dev split that sits beside a training file (``sts-train.csv`` -> ``sts-dev.csv``).

Data sets that come in splits name their files after them: ``train``/``dev``, ``train``/``validation``,
``train``/``val``/``test``. When the user names only the training file, its own dev split is the
evaluation data a user of sentence-transformers would pass, so `sentforge train` uses it instead of
holding out rows of the training file (and trains on every training row). A ``test`` split is never
picked: test data must not choose anything.
"""

from __future__ import annotations

import re
from pathlib import Path

TRAIN_NAMES = ("train", "training")
DEV_NAMES = ("dev", "validation", "val", "valid", "eval")
SHARED_SET_DEV_SPLITS = {"stsb": "validation", "mrpc": "validation"}
"""Shared set names (``stsb:train``) whose set has a dev split."""
_TOKEN = re.compile(r"[A-Za-z]+")


def find_dev_split(train_source: str) -> str | None:
    """The path of the dev split beside ``train_source`` (for a shared set name, its dev split), or None.

    The file name must hold ``train`` (or ``training``) as a word of its own (``sts-train.csv``,
    ``train.jsonl``, ``msr_para_train.tsv``, ``TRAIN.csv``); the dev split is the same name with that
    word replaced by dev, validation, val, valid or eval (first found, in that order), same suffix.
    """
    name, _, split = train_source.partition(":")
    if split.lower() in TRAIN_NAMES and name in SHARED_SET_DEV_SPLITS and not Path(train_source).exists():
        return f"{name}:{SHARED_SET_DEV_SPLITS[name]}"
    path = Path(train_source)
    if not path.is_file():
        return None
    for match in _TOKEN.finditer(path.name):
        if match.group().lower() not in TRAIN_NAMES:
            continue
        for dev in DEV_NAMES:
            name = path.name[: match.start()] + _same_case(dev, match.group()) + path.name[match.end():]
            candidate = path.with_name(name)
            if candidate.is_file() and candidate.resolve() != path.resolve():
                return str(candidate)
    return None


def _same_case(word: str, like: str) -> str:
    """``word`` in the letter case of ``like`` (TRAIN -> DEV, Train -> Dev, train -> dev)."""
    if like.isupper():
        return word.upper()
    if like[:1].isupper():
        return word.capitalize()
    return word
