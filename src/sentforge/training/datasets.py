"""Turn what a user passes as training/evaluation data into a Dataset or a dict of Datasets."""

from __future__ import annotations

from typing import Any

from datasets import Dataset, DatasetDict

from ..data.load import load_data


def as_dataset_or_dict(data: Any, what: str) -> Dataset | dict[str, Dataset] | None:
    """None stays None; a DatasetDict or dict of sources becomes a dict of Datasets (one per name,
    trained together); anything else (Dataset, DataFrame, list of dicts, file path) one Dataset."""
    if data is None:
        return None
    if isinstance(data, Dataset):
        return data
    if isinstance(data, (DatasetDict, dict)) and data and all(not isinstance(v, list) for v in data.values()):
        return DatasetDict({name: load_data(part) for name, part in data.items()})
    return load_data(data)
