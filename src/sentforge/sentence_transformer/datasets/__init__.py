"""Drop-in path ``sentforge.sentence_transformer.datasets`` (the old ``datasets``)."""

from ...datasets import SentencesDataset
from ...module_aliases import register_module_aliases

__all__ = ["SentencesDataset"]

register_module_aliases(__name__, {"sentences": "sentforge.datasets.sentences"})
