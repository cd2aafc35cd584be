"""Evaluators with sentence-transformers' names, arguments and metric keys.

Each evaluator is called as ``evaluator(model, output_path=None, epoch=-1, steps=-1)`` and returns
``{"<name>_<metric>": value}``; ``evaluator.primary_metric`` is the key used to pick the best model and
``evaluator.nan_reasons`` explains any metric that came out NaN.
"""

from ..module_aliases import register_module_aliases
from ..similarity import SimilarityFunction
from .base import BaseEvaluator, SentenceEvaluator
from .binary import BinaryClassificationEvaluator
from .label_accuracy import LabelAccuracyEvaluator
from .mse import MSEEvaluator
from .paraphrase_mining import ParaphraseMiningEvaluator
from .reranking import RerankingEvaluator
from .retrieval import InformationRetrievalEvaluator
from .sequential import SequentialEvaluator
from .similarity import EmbeddingSimilarityEvaluator
from .translation import TranslationEvaluator
from .triplet import TripletEvaluator

__all__ = [
    "BaseEvaluator",
    "SentenceEvaluator",
    "SimilarityFunction",
    "BinaryClassificationEvaluator",
    "EmbeddingSimilarityEvaluator",
    "InformationRetrievalEvaluator",
    "LabelAccuracyEvaluator",
    "MSEEvaluator",
    "ParaphraseMiningEvaluator",
    "RerankingEvaluator",
    "SequentialEvaluator",
    "TranslationEvaluator",
    "TripletEvaluator",
]

# Module paths of sentence-transformers: its 6.x module names, and the older paths named like the class.
register_module_aliases(
    __name__,
    {
        "binary_classification": "binary",
        "embedding_similarity": "similarity",
        "information_retrieval": "retrieval",
        "BinaryClassificationEvaluator": "binary",
        "EmbeddingSimilarityEvaluator": "similarity",
        "InformationRetrievalEvaluator": "retrieval",
        "LabelAccuracyEvaluator": "label_accuracy",
        "MSEEvaluator": "mse",
        "ParaphraseMiningEvaluator": "paraphrase_mining",
        "RerankingEvaluator": "reranking",
        "SentenceEvaluator": "base",
        "SequentialEvaluator": "sequential",
        "SimilarityFunction": "sentforge.similarity",
        "TranslationEvaluator": "translation",
        "TripletEvaluator": "triplet",
    },
)
