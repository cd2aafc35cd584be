"""What an evaluator returned the last time it ran, and on which weights.

A training script often scores the base model itself (``dev_evaluator(model)``) before
``trainer.train()``; the trainer's baseline then reuses those metrics instead of running the same
evaluation again. "Same weights" means the same model object with the same parameter tensors, none
of them changed in place since (torch counts every in-place change in ``Tensor._version``).
"""

from __future__ import annotations

import functools
import weakref
from typing import Any, Callable


def weights_state(model: Any) -> tuple | None:
    """A token that changes whenever ``model``'s parameters are replaced or changed in place."""
    parameters = getattr(model, "parameters", None)
    if not callable(parameters):
        return None
    return tuple((id(param), param._version) for param in parameters())


def remembering(call: Callable) -> Callable:
    """Wrap an evaluator's ``__call__`` so that it keeps its metrics and the state of the weights they came from."""

    @functools.wraps(call)
    def wrapper(self: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
        before = weights_state(model)
        metrics = call(self, model, *args, **kwargs)
        if isinstance(metrics, dict) and before is not None and before == weights_state(model):
            self._last_run = (weakref.ref(model), before, dict(metrics))
        return metrics

    wrapper._remembers_weights = True
    return wrapper


def last_metrics_for(evaluator: Any, model: Any) -> dict[str, float] | None:
    """The metrics ``evaluator`` last returned, if they came from ``model``'s current weights; else None."""
    last = getattr(evaluator, "_last_run", None)
    if last is None:
        return None
    model_ref, state, metrics = last
    if model_ref() is not model or state != weights_state(model):
        return None
    return dict(metrics)
