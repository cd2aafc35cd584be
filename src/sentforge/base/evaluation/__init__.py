"""Drop-in path ``sentforge.base.evaluation``: the evaluator base class and SequentialEvaluator."""

from ...evaluation.base import BaseEvaluator, SentenceEvaluator
from ...evaluation.sequential import SequentialEvaluator
from ...module_aliases import register_module_aliases

__all__ = ["BaseEvaluator", "SentenceEvaluator", "SequentialEvaluator"]

register_module_aliases(
    __name__, {"evaluator": "sentforge.evaluation.base", "sequential": "sentforge.evaluation.sequential"}
)
