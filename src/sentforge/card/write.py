"""Write the card beside a saved model, and read back the run record to regenerate it.

A card is documentation: a bug in it must never lose the model it describes. So
`write_model_card` catches every error and returns it as a message for the caller to report,
and each file is written atomically (temporary file, then `os.replace`): a crash leaves the old
file or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any

from .curve import plot_training_curve
from .info import CROSS_ENCODER_KIND, RunInfo
from .render import render_model_card
from ..errors import SentforgeError
from ..format import write_file_atomically

CARD_FILE = "README.md"
RUN_INFO_FILE = "training_run.json"
CURVE_FILE = "training_curve.png"
FORMAT_VERSION = 1
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def write_model_card(model_dir: str | os.PathLike[str], info: RunInfo) -> str | None:
    """Write README.md, the training curve and training_run.json into `model_dir`.

    Never raises for a card problem: returns None when everything was written, else a message
    saying what was not written and why (the model files themselves are untouched).
    """
    model_dir = Path(model_dir)
    problems: list[str] = []
    curve = None
    if info.training_logs:
        try:
            curve = plot_training_curve(
                info.training_logs, primary_metric_names(info), model_dir / CURVE_FILE, info.best_step
            )
        except Exception as error:  # noqa: BLE001 - a plot must not cost the card
            problems.append(f"{CURVE_FILE}: {type(error).__name__}: {error}")
    info = dataclasses.replace(info, training_curve=CURVE_FILE if curve else None)
    try:
        save_run_info(model_dir, info)
    except Exception as error:  # noqa: BLE001
        problems.append(f"{RUN_INFO_FILE}: {type(error).__name__}: {error}")
    try:
        write_file_atomically(model_dir / CARD_FILE, render_for(info).encode("utf-8"))
    except Exception as error:  # noqa: BLE001
        problems.append(f"{CARD_FILE}: {type(error).__name__}: {error}")
    if not problems:
        return None
    return (
        f"The model in {model_dir} was saved, but its card was not fully written ({'; '.join(problems)}). "
        f"Once the cause is fixed, regenerate the card with `sentforge card {model_dir}`."
    )


def regenerate_model_card(model_dir: str | os.PathLike[str]) -> str | None:
    """Rewrite the card of a saved model from its training_run.json (see `write_model_card`)."""
    return write_model_card(model_dir, load_run_info(model_dir))


def render_for(info: RunInfo) -> str:
    """The card text in the form of the record's kind of model (embedding model or cross-encoder)."""
    if info.model_kind == CROSS_ENCODER_KIND:
        from ..cross_encoder.card import render_card

        return render_card(info)
    return render_model_card(info)


def primary_metric_names(info: RunInfo) -> list[str]:
    """The metrics to plot: each evaluator's primary metric, else every logged metric."""
    names = [result.primary_metric for result in info.evaluator_results if result.primary_metric]
    if not names:
        names = [key for row in info.training_logs for key in row.metrics if not key.endswith("loss")]
    return list(dict.fromkeys(names))


def save_run_info(model_dir: str | os.PathLike[str], info: RunInfo) -> Path:
    """Save the run record as JSON (NaN and infinities as the strings "NaN", "Infinity")."""
    record = dataclasses.asdict(info)
    for key in ("all_hyperparameters", "non_default_hyperparameters"):
        record[key] = {name: _plain(value) for name, value in record[key].items()}
    data = {"format_version": FORMAT_VERSION, **_json_safe(record)}
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    path = Path(model_dir) / RUN_INFO_FILE
    write_file_atomically(path, (text + "\n").encode("utf-8"))
    return path


def load_run_info(model_dir: str | os.PathLike[str]) -> RunInfo:
    """Read back the run record saved beside a model, to regenerate its card."""
    path = Path(model_dir) / RUN_INFO_FILE
    if not path.is_file():
        raise SentforgeError(
            f"No {RUN_INFO_FILE} in {model_dir}: the card can only be regenerated for a model saved by "
            f"sentforge's trainer. Pass the folder the trainer saved the model to."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        for result in data.get("evaluator_results", []):
            result["metrics"] = _numbers(result["metrics"])
        data["baseline_metrics"] = _numbers(data.get("baseline_metrics", {}))
        for row in data.get("training_logs", []):
            row.update(_numbers({k: row.get(k) for k in ("epoch", "training_loss", "validation_loss")}))
            row["metrics"] = _numbers(row.get("metrics", {}))
        return RunInfo.from_dict(data)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise SentforgeError(
            f"{path} is not a readable run record ({type(error).__name__}: {error}). "
            f"Restore it from the training output, or train again to write a new one."
        ) from error


def _json_safe(value: Any) -> Any:
    """Plain JSON values: non-finite floats as strings, numpy/torch scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def _plain(value: Any) -> Any:
    """A hyperparameter JSON keeps as is, else its text (as the card shows it): tuples, enums, objects."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list) and all(_plain(item) is item for item in value):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) and _plain(v) is v for k, v in value.items()):
        return value
    return str(value)


def _numbers(values: dict[str, Any]) -> dict[str, Any]:
    """Undo `_json_safe` for numeric fields: "NaN" and "Infinity" back to floats."""
    return {key: _NON_FINITE.get(value, value) if isinstance(value, str) else value for key, value in values.items()}
