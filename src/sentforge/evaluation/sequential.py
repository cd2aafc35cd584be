"""SequentialEvaluator: run several evaluators one after the other and combine their primary scores."""

from __future__ import annotations

from typing import Callable, Iterable

from .base import SentenceEvaluator


class SequentialEvaluator(SentenceEvaluator):
    """Runs ``evaluators`` in order; returns all their metrics plus ``sequential_score``, which is
    ``main_score_function`` applied to the list of their primary scores (default: the last one)."""

    def __init__(
        self,
        evaluators: Iterable[SentenceEvaluator],
        main_score_function: Callable[[list[float]], float] = lambda scores: scores[-1],
    ):
        super().__init__()
        self.evaluators = list(evaluators)
        self.main_score_function = main_score_function
        self.primary_metric = "sequential_score"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        results: dict[str, float] = {}
        scores: list[float] = []
        self.nan_reasons = {}
        for index, evaluator in enumerate(self.evaluators):
            evaluation = evaluator(model, output_path, epoch, steps)
            if not isinstance(evaluation, dict):
                scores.append(evaluation)
                evaluation = {f"evaluator_{index}": evaluation}
            elif getattr(evaluator, "primary_metric", None) is not None:
                scores.append(evaluation[evaluator.primary_metric])
            else:
                scores.append(next(iter(evaluation.values())))
            results.update(evaluation)
            self.nan_reasons.update(getattr(evaluator, "nan_reasons", {}) or {})
        self.primary_metric = "sequential_score"
        results["sequential_score"] = self.main_score_function(scores) if scores else 0.0
        return results
