"""The evaluator base class: metric naming, CSV logging and embedding, shared by every evaluator.

Evaluators follow sentence-transformers: calling one on a model returns ``{"<name>_<metric>": value}``,
``primary_metric`` names the key used for model selection, and a CSV row is appended under
``output_path`` on every call. On top of that, ``nan_reasons`` says why a metric came out NaN, so that
logs and model cards can explain it instead of printing a bare ``nan``.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from typing import Any, Sequence

from .last_run import remembering

logger = logging.getLogger(__name__)


class SentenceEvaluator:
    """Base class for evaluators; subclasses implement ``__call__``.

    Attributes:
        name: data set name, used as the prefix of every metric key ("" means no prefix).
        primary_metric: the full (prefixed) key of the metric used to pick the best checkpoint.
        greater_is_better: whether a higher primary metric is better.
        nan_reasons: metric key -> why that metric is NaN (empty when every metric is defined).
    """

    name: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Every evaluator's ``__call__`` remembers its metrics and the weights they came from
        (``last_run.py``), so that a trainer can skip re-running it on the same weights."""
        super().__init_subclass__(**kwargs)
        call = cls.__dict__.get("__call__")
        if call is not None and not getattr(call, "_remembers_weights", False):
            cls.__call__ = remembering(call)

    def __init__(self) -> None:
        self.greater_is_better = True
        self.primary_metric: str | None = None
        self.nan_reasons: dict[str, str] = {}

    def __call__(
        self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1
    ) -> dict[str, float]:
        """Evaluate ``model``; return metrics keyed ``<name>_<metric>``."""
        raise NotImplementedError

    def prefix_name_to_metrics(self, metrics: dict[str, Any], name: str) -> dict[str, Any]:
        """Prefix every key with ``name + "_"`` (no prefix when name is empty); prefix primary_metric too."""

        def maybe_to_float(value: Any) -> Any:
            try:
                return float(value)
            except (TypeError, ValueError):
                return value

        if not name:
            return {key: maybe_to_float(value) for key, value in metrics.items()}
        prefixed = {f"{name}_{key}": maybe_to_float(value) for key, value in metrics.items()}
        primary = getattr(self, "primary_metric", None)  # subclasses may skip __init__
        if primary is not None and not primary.startswith(name + "_"):
            self.primary_metric = f"{name}_{primary}"
        return prefixed

    def prefixed(self, key: str) -> str:
        """The full metric key for an unprefixed metric name."""
        return f"{self.name}_{key}" if self.name else key

    def store_metrics_in_model_card_data(self, model, metrics: dict[str, Any], epoch: int = 0, step: int = 0) -> None:
        """Hand the metrics to the model's card data, when the model keeps one."""
        card_data = getattr(model, "model_card_data", None)
        setter = getattr(card_data, "set_evaluation_metrics", None)
        if callable(setter):
            setter(self, metrics, epoch, step)

    @property
    def description(self) -> str:
        """Heading for the model card: BinaryClassificationEvaluator -> "Binary Classification"."""
        class_name = type(self).__name__
        if class_name.startswith("CE"):
            class_name = "CrossEncoder" + class_name[2:]
        class_name = class_name.split("Evaluator")[0] if "Evaluator" in class_name else class_name
        return re.sub(r"([a-z])([A-Z])", r"\g<1> \g<2>", class_name)

    @property
    def task_type(self) -> str:
        """Task type for the card's model-index, e.g. "semantic-similarity"."""
        return self.description.lower().replace(" ", "-")

    def get_config_dict(self) -> dict[str, Any]:
        """Non-default settings worth showing in the model card."""
        return {}

    def _record_nan(self, metrics: dict[str, float], keys: Sequence[str], reason: str) -> None:
        """Remember (under the prefixed key) why the given metrics are NaN, and log it once."""
        if not hasattr(self, "nan_reasons"):
            self.nan_reasons = {}
        for key in keys:
            if key in metrics and metrics[key] != metrics[key]:
                self.nan_reasons[self.prefixed(key)] = reason
        logger.warning("%s%s: %s", type(self).__name__, f" ({self.name})" if self.name else "", reason)


# sentence-transformers >= 5 calls the base class BaseEvaluator; both names work.
BaseEvaluator = SentenceEvaluator


def epoch_text(epoch: int, steps: int, truncate_dim: int | None = None) -> str:
    """The " after epoch 1" / " in epoch 1 after 20 steps" suffix of the log line."""
    text = ""
    if epoch != -1:
        text = f" after epoch {epoch}" if steps == -1 else f" in epoch {epoch} after {steps} steps"
    if truncate_dim is not None:
        text += f" (truncated to {truncate_dim})"
    return text


def append_csv_row(output_path: str, csv_file: str, headers: list[str], row: list) -> None:
    """Append ``row`` to ``output_path/csv_file``, writing ``headers`` first when the file is new."""
    os.makedirs(output_path, exist_ok=True)
    csv_path = os.path.join(output_path, csv_file)
    is_new = not os.path.isfile(csv_path)
    with open(csv_path, newline="", mode="w" if is_new else "a", encoding="utf-8") as f:
        writer = csv.writer(f)
        if is_new:
            writer.writerow(headers)
        writer.writerow(row)


def embed(
    model,
    texts,
    *,
    batch_size: int,
    show_progress_bar: bool | None,
    as_tensor: bool = False,
    **optional: Any,
):
    """Encode ``texts`` with ``model.encode``; optional arguments (prompt, truncate_dim, ...) are passed
    only when set, so models whose ``encode`` lacks them still work."""
    kwargs = {key: value for key, value in optional.items() if value is not None}
    if as_tensor:
        kwargs["convert_to_tensor"] = True
    else:
        kwargs["convert_to_numpy"] = True
    return model.encode(list(texts), batch_size=batch_size, show_progress_bar=show_progress_bar, **kwargs)


def model_similarity_fn_name(model) -> str:
    """The model's declared similarity function name (cosine when it declares none)."""
    name = getattr(model, "similarity_fn_name", None)
    return getattr(name, "value", name) or "cosine"


def role_prompt(model, role: str, prompt: str | None, prompt_name: str | None) -> str | None:
    """The prompt name to encode with: the one given, else the model's ``role`` prompt ("query" or
    "document") when it defines one, as sentence-transformers' encode_query / encode_document do."""
    if prompt_name is not None or prompt is not None:
        return prompt_name
    prompts = getattr(model, "prompts", None)
    return role if isinstance(prompts, dict) and role in prompts else None
