"""Drop-in path ``sentforge.sentence_transformer.evaluation``: :mod:`sentforge.evaluation` under the
sentence-transformers 6 name, with its per-evaluator submodules."""

from ... import evaluation as _evaluation
from ...evaluation import *  # noqa: F403
from ...module_aliases import register_module_aliases

__all__ = list(_evaluation.__all__)

register_module_aliases(
    __name__,
    {
        "binary_classification": "sentforge.evaluation.binary",
        "embedding_similarity": "sentforge.evaluation.similarity",
        "information_retrieval": "sentforge.evaluation.retrieval",
        "label_accuracy": "sentforge.evaluation.label_accuracy",
        "mse": "sentforge.evaluation.mse",
        "paraphrase_mining": "sentforge.evaluation.paraphrase_mining",
        "reranking": "sentforge.evaluation.reranking",
        "translation": "sentforge.evaluation.translation",
        "triplet": "sentforge.evaluation.triplet",
    },
)
