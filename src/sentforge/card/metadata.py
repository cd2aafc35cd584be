"""The card's YAML front matter: tags, widget, metrics and the model-index the hub reads.

Keys come in sentence-transformers' order (language, license, tags, base_model, widget,
datasets, pipeline_tag, library_name, metrics, model-index); empty ones are dropped. NaN
metrics are left out of model-index: the hub rejects them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .info import EvaluatorResult, LossInfo, RunInfo
from .tables import is_nan

_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")


def front_matter(info: RunInfo) -> str:
    """The YAML between the card's two `---` lines."""
    card = info.card_data
    metadata: dict[str, Any] = {
        "language": list(card.language or []),
        "license": card.license,
        "tags": card_tags(info),
        "base_model": hub_base_model(info),
        "widget": info.widget,
        "datasets": dataset_ids(info),
        "pipeline_tag": "sentence-similarity",
        "library_name": "sentence-transformers",
        "metrics": metric_names(info),
        "model-index": model_index(info),
    }
    metadata = {key: value for key, value in metadata.items() if value not in (None, [], "")}
    return yaml.dump(metadata, sort_keys=False, allow_unicode=True).strip()


def metric_names(info: RunInfo) -> list[str]:
    """Every evaluator's metric names without their dataset prefix, once each."""
    return list(dict.fromkeys(key for result in info.evaluator_results for key in short_metrics(result)[0]))


def card_tags(info: RunInfo) -> list[str]:
    """Library tags, the user's tags, then what the run adds: trainer, dataset size, losses."""
    tags = list(info.card_data.tags or [])
    if info.trained:
        tags.append("generated_from_trainer")
    if size := sum(dataset.size for dataset in info.train_datasets):
        tags.append(f"dataset_size:{size}")
    tags += [f"loss:{loss.name}" for loss in all_losses(info)]
    return list(dict.fromkeys(tags))


def all_losses(info: RunInfo) -> list[LossInfo]:
    """Every loss of the run, the ones used inside other losses included, once each by name."""
    pending = [dataset.loss for dataset in info.train_datasets if dataset.loss is not None]
    found: dict[str, LossInfo] = {}
    while pending:
        loss = pending.pop(0)
        found.setdefault(loss.name, loss)
        pending += loss.wrapped
    return list(found.values())


def hub_base_model(info: RunInfo) -> str | None:
    """The base model if it looks like a hub id ("org/name"); local paths are not published."""
    base = info.base_model
    if base and _HUB_ID.fullmatch(base) and ".." not in base:
        return base
    return None


def model_name(info: RunInfo) -> str:
    """The card's title: the user's, else "SentenceTransformer based on <base model>"."""
    if info.card_data.model_name:
        return info.card_data.model_name
    base = hub_base_model(info)
    return f"SentenceTransformer based on {base}" if base else "SentenceTransformer"


def dataset_ids(info: RunInfo) -> list[str]:
    """Hub ids of the datasets, from the run and from the user's card settings."""
    card = info.card_data
    ids = [d.hub_id for d in [*info.train_datasets, *info.eval_datasets] if d.hub_id]
    ids += [d["id"] for d in [*card.train_datasets, *card.eval_datasets] if d.get("id")]
    return list(dict.fromkeys(ids))


def short_metrics(result: EvaluatorResult) -> tuple[dict[str, float], str | None]:
    """Metrics without the evaluator's name prefix ("valid_spearman_cosine" -> "spearman_cosine")."""
    prefix = f"{result.name}_" if result.name else ""
    if not prefix or not all(key.startswith(prefix) for key in result.metrics):
        return dict(result.metrics), result.primary_metric
    metrics = {key[len(prefix) :]: value for key, value in result.metrics.items()}
    primary = result.primary_metric
    if primary and primary.startswith(prefix):
        primary = primary[len(prefix) :]
    return metrics, primary


def task_type(result: EvaluatorResult) -> str:
    return result.task_type or result.description.lower().replace(" ", "-")


def model_index(info: RunInfo) -> list[dict[str, Any]] | None:
    """One result per task and dataset, listing its finite metrics; None when there are none."""
    blocks: dict[tuple[str, str], dict[str, Any]] = {}
    for result in info.evaluator_results:
        metrics, _ = short_metrics(result)
        for key, value in metrics.items():
            number = _as_float(value)
            if number is None or is_nan(number) or number in (float("inf"), float("-inf")):
                continue
            dataset_type = result.name or "unknown"
            block = blocks.setdefault(
                (task_type(result), dataset_type),
                {
                    "task": {"type": task_type(result), "name": result.description},
                    "dataset": {
                        "name": result.name.replace("_", " ").replace("-", " ") if result.name else "Unknown",
                        "type": dataset_type,
                    },
                    "metrics": [],
                },
            )
            block["metrics"].append({"type": key, "value": number, "name": key.replace("_", " ").title()})
    if not blocks:
        return None
    return [{"name": model_name(info), "results": list(blocks.values())}]


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
