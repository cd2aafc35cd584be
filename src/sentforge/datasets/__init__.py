"""Drop-in path ``sentforge.datasets`` (as ``sentence_transformers.datasets``) for ``fit``-style scripts."""

from __future__ import annotations

from ..module_aliases import register_module_aliases
from .sentences import SentencesDataset

__all__ = ["SentencesDataset"]

# ``from sentforge.datasets.SentencesDataset import SentencesDataset`` (the v2 module path).
register_module_aliases("sentforge.datasets", {"SentencesDataset": "sentences"})
