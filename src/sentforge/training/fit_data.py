"""``fit``'s data: DataLoaders of InputExamples become named datasets (sentence_0..n, label).

Like sentence-transformers 3+, each loader is iterated once (so ``shuffle=True`` draws its order
from torch's global random state, as there) and its examples become one ``datasets.Dataset``.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from datasets import Dataset, DatasetDict

from ..errors import SentforgeError

logger = logging.getLogger(__name__)
DEFAULT_BATCH_SIZE = 8


def dataset_name(position: int) -> str:
    """The name of the ``position``-th (from 1) training objective's dataset and loss."""
    return f"_dataset_{position}"


def loaders_to_datasets(data_loaders: Sequence[Any]) -> tuple[DatasetDict, int]:
    """(one dataset per loader, the batch size to train with: the last loader's, as in sentence-transformers)."""
    batch_size = DEFAULT_BATCH_SIZE
    named: dict[str, Dataset] = {}
    for position, loader in enumerate(data_loaders, start=1):
        batch_size = _loader_batch_size(loader, position, batch_size)
        texts, labels = _read_examples(loader, position)
        if len({len(example_texts) for example_texts in texts}) > 1:
            raise ValueError(f"All InputExamples for training objective {position} must have the same number of texts.")
        dataset = Dataset.from_dict({f"sentence_{i}": list(column) for i, column in enumerate(zip(*texts))})
        if _has_labels(labels):
            dataset = dataset.add_column("label", list(labels))
        named[dataset_name(position)] = dataset
    return DatasetDict(named), batch_size


def _loader_batch_size(loader: Any, position: int, fallback: int) -> int:
    size = getattr(loader, "batch_size", fallback)
    if size is None:  # a DataLoader built with its own batch_sampler
        size = getattr(getattr(loader, "batch_sampler", None), "batch_size", None) or fallback
        logger.warning(
            "The DataLoader of training objective %d uses its own batch_sampler, whose batch grouping fit() does "
            "not keep (batches of %d shuffled rows are used). Use SentenceTransformerTrainer for custom batching.",
            position, size,
        )
    return size


def _read_examples(loader: Any, position: int) -> tuple[list[list[str]], list[Any]]:
    """All (texts, label) of a loader, read with its own sampler and the batches left uncollated."""
    if not hasattr(loader, "collate_fn"):
        raise SentforgeError(
            f"Training objective {position} must be a (DataLoader, loss) pair, got {type(loader).__name__} "
            "instead of a DataLoader. Wrap the examples: DataLoader(examples, shuffle=True, batch_size=16)."
        )
    original = loader.collate_fn
    loader.collate_fn = _as_list
    texts: list[list[str]] = []
    labels: list[Any] = []
    try:
        for batch in loader:
            for example in batch:
                if not hasattr(example, "texts") or not hasattr(example, "label"):
                    raise SentforgeError(
                        f"fit() reads InputExample(texts=[...], label=...) items, but training objective {position} "
                        f"holds {type(example).__name__}. Build the DataLoader over InputExample objects."
                    )
                texts.append(list(example.texts or []))
                labels.append(example.label)
    finally:
        loader.collate_fn = original
    if not texts:
        raise SentforgeError(f"The DataLoader of training objective {position} yields no examples.")
    return texts, labels


def _as_list(batch: list[Any]) -> list[Any]:
    return batch


def _has_labels(labels: list[Any]) -> bool:
    """A label column is kept unless every label is the default 0 (sentence-transformers' rule)."""
    try:
        return set(labels) != {0}
    except TypeError:  # unhashable labels (e.g. teacher embeddings) are real labels
        return True
