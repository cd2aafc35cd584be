"""What a model card's training logs and published metrics reveal about the run behind it.

Cards leave out ``eval_steps`` but their logs show it; NaN or negative published metrics, logs
that go back in epoch and runs that stopped early are signs worth a note in the recovered recipe.
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Any


def infer_evaluation_schedule(args: dict[str, Any], logs: list[dict[str, str]], notes: list[str]) -> None:
    """Fill in ``eval_steps`` (and ``eval_strategy``, which newer cards leave out) from the training logs.

    Cards never list these two, but the logs show when evaluations ran: between epoch ends means
    every ``eval_steps`` steps (the greatest common divisor of those steps), only at epoch ends
    means once an epoch.
    """
    rows = _eval_rows(logs)
    if "eval_strategy" not in args and rows:
        args["eval_strategy"] = "steps" if any(not _is_whole(row.get("Epoch", "")) for row in rows) else "epoch"
        notes.append(f"`eval_strategy: {args['eval_strategy']}` is inferred from the training logs.")
    if args.get("eval_strategy") != "steps" or "eval_steps" in args:
        return
    steps = [int(float(row["Step"])) for row in rows if not _is_whole(row.get("Epoch", ""))]
    if steps:
        args["eval_steps"] = reduce(math.gcd, steps)
        notes.append(
            f"`eval_steps: {args['eval_steps']}` is inferred from the training logs "
            f"(evaluations at steps {', '.join(map(str, steps[:6]))}{'...' if len(steps) > 6 else ''})."
        )
    else:
        notes.append("`eval_strategy` is steps but the card does not show how often: set `args.eval_steps`.")


def card_warnings(front: dict[str, Any], args: dict[str, Any], logs: list[dict[str, str]]) -> list[str]:
    """Signs in the card that the published run went wrong."""
    warnings = []
    values = _published_metrics(front)
    nan = sorted({name for name, value in values if isinstance(value, float) and math.isnan(value)})
    if nan:
        warnings.append(f"The card publishes NaN for {', '.join(nan)}: the evaluation data were probably unusable "
                        "(e.g. all labels equal).")
    negative = sorted({name for name, value in values if "spearman" in name and isinstance(value, float) and value < 0})
    if negative:
        warnings.append(f"The card publishes a negative {', '.join(negative)}: the labels may be inverted "
                        "(e.g. NLI classes where 0 means entailment).")
    epochs = [float(row["Epoch"]) for row in logs if _is_number(row.get("Epoch", ""))]
    if any(later < earlier for earlier, later in zip(epochs, epochs[1:])):
        warnings.append("The card's training logs go back in epoch: they mix several runs.")
    whole = [epoch for epoch in epochs if _is_whole(str(epoch))]
    planned = args.get("num_train_epochs")
    if whole and isinstance(planned, (int, float)) and max(whole) < planned:
        warnings.append(f"The logs end at epoch {max(whole):g} of {planned:g}: the run stopped early or the card "
                        "was written before the end.")
    return warnings


def _published_metrics(front: dict[str, Any]) -> list[tuple[str, Any]]:
    found = []
    for model in front.get("model-index") or []:
        for result in (model or {}).get("results") or []:
            for metric in (result or {}).get("metrics") or []:
                if isinstance(metric, dict) and "type" in metric:
                    found.append((str(metric["type"]), metric.get("value")))
    return found


def _eval_rows(logs: list[dict[str, str]]) -> list[dict[str, str]]:
    """Log rows that hold an evaluation result (any column besides epoch, step and training loss)."""
    rows = []
    for row in logs:
        metrics = [value for key, value in row.items() if key not in ("Epoch", "Step", "Training Loss")]
        if _is_number(row.get("Step", "")) and any(value not in ("", "-") for value in metrics):
            rows.append(row)
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def _is_whole(text: str) -> bool:
    return _is_number(text) and float(text).is_integer()
