"""CrossEncoderDataCollator: a batch of rows as text columns (the losses tokenize pairs) plus labels."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

import torch

LABEL_COLUMNS = ("label", "labels", "score", "scores")


@dataclass
class CrossEncoderDataCollator:
    """Columns in dataset order as lists of texts; the first label column as a tensor (or a list of
    tensors for list labels); ``prompt``/``task`` resolved per dataset. Column order matters: the
    first text column is the query, the next the document(s)."""

    preprocess_fn: Callable | None = None
    valid_label_columns: list[str] = field(default_factory=lambda: list(LABEL_COLUMNS))
    router_mapping: str | dict[str, str] | None = field(default_factory=dict, repr=False)
    prompts: str | dict[str, str] | None = field(default_factory=dict, repr=False)
    max_length: int | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name, value in (("prompts", self.prompts), ("router_mapping", self.router_mapping)):
            if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
                raise ValueError(
                    f"CrossEncoder {name} cannot be per-column: the columns of a row are combined into pairs. "
                    "Pass one string, or a mapping of dataset names to strings."
                )

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        columns = list(features[0].keys())
        batch: dict[str, Any] = {}
        if "dataset_name" in columns:
            columns.remove("dataset_name")
            batch["dataset_name"] = features[0]["dataset_name"]
        for label_column in self.valid_label_columns:
            if label_column in columns:
                batch["label"] = _labels([row[label_column] for row in features])
                columns.remove(label_column)
                break
        for key, mapping in (("prompt", self.prompts), ("task", self.router_mapping)):
            value = _resolve(mapping, batch.get("dataset_name"))
            if value:
                batch[key] = value
        for column in columns:
            batch[column] = [row[column] for row in features]
        return batch


def _labels(labels: list[Any]):
    if isinstance(labels[0], torch.Tensor):
        return torch.stack(labels) if labels[0].ndim == 0 else labels
    if isinstance(labels[0], Collection) and not isinstance(labels[0], str):
        return [torch.tensor(label) for label in labels]
    return torch.tensor(labels)


def _resolve(mapping: str | dict[str, str] | None, dataset_name: str | None) -> str | None:
    if not mapping:
        return None
    if isinstance(mapping, str):
        return mapping
    return mapping.get(dataset_name) if dataset_name is not None else None
