"""Drop-in path ``sentforge.sentence_transformer.fit_mixin``: ``SentenceTransformer.fit`` and its callbacks."""

from ..fit_mixin import FitMixin
from ..training.fit_callbacks import EvaluatorCallback, OriginalCallback, SaveModelCallback

__all__ = ["FitMixin", "EvaluatorCallback", "OriginalCallback", "SaveModelCallback"]
