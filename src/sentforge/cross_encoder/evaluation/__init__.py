"""Cross-encoder evaluators, with sentence-transformers' names, arguments and metric keys."""

from .classification import CrossEncoderClassificationEvaluator
from .correlation import CrossEncoderCorrelationEvaluator
from .reranking import CrossEncoderRerankingEvaluator

__all__ = ["CrossEncoderClassificationEvaluator", "CrossEncoderCorrelationEvaluator", "CrossEncoderRerankingEvaluator"]
