"""Averaged epoch weights, kept only when the held-out split prefers them to the best single epoch.

Runs of three or more epochs keep a running mean of the weights at the end of epochs 2, 3, ...
(:class:`EpochWeightAverage`). After training, the best epoch's weights (what the trainer kept) and
the mean are both scored on the held-out split; the better one is saved. The test data is never
used. Log, metrics.json (``weight_average``) and the card say which was kept and why.
"""

from __future__ import annotations

import math
import time
from typing import Any

import torch

from .reporter import Reporter
from ..training.weight_average import EpochWeightAverage

MIN_EPOCHS = 3
"""From this many epochs the mean covers at least two epochs (the first epoch is left out)."""


def weight_average_callback(args: Any, evaluator: Any) -> EpochWeightAverage | None:
    """The callback for runs that can use it: an evaluator to decide with, and at least MIN_EPOCHS epochs."""
    if evaluator is None or (getattr(args, "max_steps", -1) or -1) > 0:
        return None
    if float(getattr(args, "num_train_epochs", 1)) < MIN_EPOCHS:
        return None
    return EpochWeightAverage(first_epoch=2)


def keep_better_weights(
    model: Any, trainer: Any, average: EpochWeightAverage | None, final: dict[str, float], primary: str | None,
    reporter: Reporter, seconds: dict[str, float],
) -> tuple[dict[str, float], dict[str, Any] | None]:
    """Score the averaged weights on the held-out split; keep them only when they beat ``final``'s primary metric.

    Returns the metrics of the weights that were kept and the record for metrics.json (None when
    nothing was averaged).
    """
    state = average.averaged_state() if average is not None else {}
    if len(getattr(average, "epochs", [])) < 2 or not final or primary not in final or not state:
        return final, None
    began = time.perf_counter()
    kept_state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    card_data = getattr(model, "model_card_data", None)
    card_results = dict(getattr(card_data, "_evaluations", {}))
    model.load_state_dict(state, strict=False)
    averaged = trainer.run_evaluator(write_csv=False)
    seconds["weight_average_eval"] = round(time.perf_counter() - began, 3)
    better = getattr(trainer.evaluator, "greater_is_better", True)
    best, mean = float(final[primary]), float(averaged.get(primary, math.nan))
    use_mean = not math.isnan(mean) and (mean > best if better else mean < best)
    record = {"epochs": list(average.epochs), "held_out_averaged": mean, "held_out_best_epoch": best,
              "kept": "averaged" if use_mean else "best epoch", "metric": primary}
    epochs = ", ".join(str(e) for e in average.epochs)
    if use_mean:
        reporter.say(f"Weights averaged over epochs {epochs}: held-out {primary} {mean:.4f} > {best:.4f} (best single "
                     "epoch), so the averaged weights are saved.")
        return averaged, record
    with torch.no_grad():
        model.load_state_dict(kept_state)
    if card_data is not None and hasattr(card_data, "_evaluations"):
        card_data._evaluations = card_results  # the card shows the kept weights' results
    reporter.say(f"Weights averaged over epochs {epochs}: held-out {primary} {mean:.4f}, not above {best:.4f} (best "
                 "single epoch), so the best epoch is saved.")
    return final, record


def card_note(record: dict[str, Any] | None) -> str:
    """One line for the card: which weights were saved and the held-out numbers that decided it."""
    if not record:
        return ""
    epochs = ", ".join(str(e) for e in record["epochs"])
    return (f"**Averaged weights:** the mean of the weights after epochs {epochs} scored "
            f"{record['held_out_averaged']:.4f} on the held-out {record['metric']}, the best single epoch "
            f"{record['held_out_best_epoch']:.4f}; the {record['kept']} weights are saved.")
