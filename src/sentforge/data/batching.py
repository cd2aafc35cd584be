"""Pre-tokenized training data: each text column is tokenized once, in big batches, by the Rust
tokenizer; a training step then only pads the rows of its batch. This removes the per-step
tokenization that dominates small-model training on CPU."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset as TorchDataset

from ..modules.padding import pad_token_ids
from .metadata_columns import IGNORED_COLUMN_NAMES
from .roles import LABEL_COLUMN_NAMES

LABEL_COLUMNS = LABEL_COLUMN_NAMES
RESERVED_COLUMNS = IGNORED_COLUMN_NAMES


def split_columns(column_names: Sequence[str]) -> tuple[list[str], str | None]:
    """Text columns in order, and the label column (the first of ``LABEL_COLUMN_NAMES``) if any."""
    label = next((name for name in LABEL_COLUMNS if name in column_names), None)
    texts = [c for c in column_names if c != label and c not in RESERVED_COLUMNS]
    return texts, label


def column_prompt(prompts: Any, column: str, dataset_name: str | None) -> str | None:
    """The prompt for one column, from sentence-transformers' four `prompts` shapes."""
    if not prompts:
        return None
    if isinstance(prompts, str):
        return prompts
    if dataset_name is not None and isinstance(prompts.get(dataset_name), (dict, str)):
        prompts = prompts[dataset_name]
        if isinstance(prompts, str):
            return prompts
    value = prompts.get(column) if isinstance(prompts, dict) else None
    return value if isinstance(value, str) else None


class TokenizedColumns(TorchDataset):
    """A dataset whose text columns are token-id lists; items are row dicts for the collator."""

    def __init__(self, dataset, tokenize_ids, prompts: Any = None, dataset_name: str | None = None, chunk: int = 4096):
        self.dataset = dataset
        """The source rows (the trainer's cache checks it is still the same object)."""
        self.text_columns, self.label_column = split_columns(dataset.column_names)
        self.dataset_name = dataset_name
        self.ids: dict[str, list[list[int]]] = {}
        self.prompt_lengths: dict[str, int] = {}
        for column in self.text_columns:
            texts = dataset[column]
            prompt = column_prompt(prompts, column, dataset_name)
            if prompt:
                texts = [prompt + str(t) for t in texts]
                self.prompt_lengths[column] = len(tokenize_ids([prompt])[0]) - 1
            ids: list[list[int]] = []
            for start in range(0, len(texts), chunk):
                ids.extend(tokenize_ids(texts[start : start + chunk]))
            self.ids[column] = ids
        self.labels = dataset[self.label_column] if self.label_column else None
        self.num_rows = len(dataset)

    def __len__(self) -> int:
        return self.num_rows

    def __getitem__(self, index: int) -> dict[str, Any]:
        row: dict[str, Any] = {column: self.ids[column][index] for column in self.text_columns}
        if self.labels is not None:
            row["label"] = self.labels[index]
        if self.dataset_name is not None:
            row["dataset_name"] = self.dataset_name
        row["_columns"] = self.text_columns
        row["_prompt_lengths"] = self.prompt_lengths
        return row


class PaddingCollator:
    """Pads pre-tokenized rows to `{column}_input_ids` / `{column}_attention_mask` (+ `label`)."""

    def __init__(self, pad_token_id: int = 0, with_token_type_ids: bool = False) -> None:
        self.pad_token_id = pad_token_id
        self.with_token_type_ids = with_token_type_ids

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch: dict[str, Any] = {}
        columns = rows[0]["_columns"]
        for column in columns:
            input_ids, mask = pad_token_ids([row[column] for row in rows], self.pad_token_id)
            batch[f"{column}_input_ids"] = input_ids
            batch[f"{column}_attention_mask"] = mask
            if self.with_token_type_ids:
                batch[f"{column}_token_type_ids"] = torch.zeros_like(input_ids)
            prompt_length = rows[0]["_prompt_lengths"].get(column)
            if prompt_length:
                batch[f"{column}_prompt_length"] = torch.tensor([prompt_length])
        if "label" in rows[0]:
            batch["label"] = _label_tensor([row["label"] for row in rows])
        if "dataset_name" in rows[0]:
            batch["dataset_name"] = rows[0]["dataset_name"]
        batch["_columns"] = list(columns)
        return batch


def _label_tensor(labels: list) -> Tensor:
    return torch.tensor(labels)


def collect_features(batch: dict[str, Any]) -> tuple[list[dict[str, Tensor]], Tensor | None]:
    """Split a collated batch into one features dict per text column, and the labels."""
    columns = batch.get("_columns") or [k[: -len("_input_ids")] for k in batch if k.endswith("_input_ids")]
    features = []
    for column in columns:
        prefix = f"{column}_"
        keys = ("input_ids", "attention_mask", "token_type_ids", "prompt_length")
        features.append({key: batch[prefix + key] for key in keys if prefix + key in batch})
    return features, batch.get("label")
