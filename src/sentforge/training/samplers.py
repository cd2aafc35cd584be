"""Batch samplers: which rows form a batch (and, for several datasets, which dataset goes next).

Every sampler is deterministic given (seed, epoch), so a resumed run sees the same batches.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import torch
from torch.utils.data import BatchSampler, ConcatDataset, SubsetRandomSampler


class DefaultBatchSampler(BatchSampler):
    """Shuffled fixed-size batches; reshuffled each epoch from ``seed + epoch``."""

    def __init__(self, dataset, batch_size: int, drop_last: bool = False, valid_label_columns=None,
                 generator: torch.Generator | None = None, seed: int = 0) -> None:
        self.dataset = dataset
        self.seed = seed
        self.epoch = 0
        self.generator = generator or torch.Generator()
        super().__init__(SubsetRandomSampler(range(len(dataset)), generator=self.generator), batch_size, drop_last)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[list[int]]:
        self.generator.manual_seed(self.seed + self.epoch)
        return super().__iter__()


class NoDuplicatesBatchSampler(DefaultBatchSampler):
    """Batches in which no text occurs twice, so in-batch negatives are never copies of the positive."""

    def __init__(self, dataset, batch_size: int, drop_last: bool = False, valid_label_columns=None,
                 generator: torch.Generator | None = None, seed: int = 0) -> None:
        super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
        label_columns = set(valid_label_columns or ("label", "score")) | {"dataset_name"}
        columns = [c for c in dataset.column_names if c not in label_columns]
        self.row_texts = [set(values) for values in zip(*(dataset[c] for c in columns))] if columns else []

    def __iter__(self) -> Iterator[list[int]]:
        self.generator.manual_seed(self.seed + self.epoch)
        remaining = dict.fromkeys(torch.randperm(len(self.dataset), generator=self.generator).tolist())
        while remaining:
            batch: list[int] = []
            texts: set = set()
            for index in list(remaining):
                if self.row_texts and texts & self.row_texts[index]:
                    continue
                batch.append(index)
                if self.row_texts:
                    texts |= self.row_texts[index]
                del remaining[index]
                if len(batch) == self.batch_size:
                    break
            if len(batch) == self.batch_size or (batch and not self.drop_last):
                yield batch
            if len(batch) < self.batch_size:
                break

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full if self.drop_last or not rest else full + 1


class GroupByLabelBatchSampler(DefaultBatchSampler):
    """Batches holding at least two rows per label (for batch-hard/all triplet losses)."""

    def __init__(self, dataset, batch_size: int, drop_last: bool = False, valid_label_columns=None,
                 generator: torch.Generator | None = None, seed: int = 0) -> None:
        super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
        if batch_size % 2:
            raise ValueError("group_by_label needs an even batch size.")
        label_column = next((c for c in (valid_label_columns or ("label", "score")) if c in dataset.column_names), None)
        if label_column is None:
            raise ValueError("group_by_label needs a `label` column.")
        groups: dict = {}
        for index, label in enumerate(dataset[label_column]):
            groups.setdefault(label, []).append(index)
        self.groups = {k: v for k, v in groups.items() if len(v) >= 2}

    def __iter__(self) -> Iterator[list[int]]:
        self.generator.manual_seed(self.seed + self.epoch)
        pairs: list[list[int]] = []
        for members in self.groups.values():
            order = torch.randperm(len(members), generator=self.generator).tolist()
            shuffled = [members[i] for i in order]
            pairs.extend(shuffled[i : i + 2] for i in range(0, len(shuffled) - 1, 2))
        order = torch.randperm(len(pairs), generator=self.generator).tolist()
        batch: list[int] = []
        for i in order:
            batch.extend(pairs[i])
            if len(batch) >= self.batch_size:
                yield batch[: self.batch_size]
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        rows = sum(len(v) // 2 * 2 for v in self.groups.values())
        full, rest = divmod(rows, self.batch_size)
        return full if self.drop_last or not rest else full + 1


class MultiDatasetBatchSampler(BatchSampler):
    """Interleaves the batches of several datasets (concatenated); subclasses choose the order."""

    def __init__(self, dataset: ConcatDataset, batch_samplers: Sequence[BatchSampler],
                 generator: torch.Generator | None = None, seed: int = 0) -> None:
        self.dataset = dataset
        self.batch_samplers = list(batch_samplers)
        self.generator = generator or torch.Generator()
        self.seed = seed
        self.epoch = 0
        self.offsets = [0] + list(dataset.cumulative_sizes[:-1])

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        for sampler in self.batch_samplers:
            if hasattr(sampler, "set_epoch"):
                sampler.set_epoch(epoch)

    def _dataset_order(self) -> list[int]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[list[int]]:
        self.generator.manual_seed(self.seed + self.epoch)
        iterators = [iter(s) for s in self.batch_samplers]
        for which in self._dataset_order():
            batch = next(iterators[which], None)
            if batch is None:
                continue
            yield [self.offsets[which] + i for i in batch]


class RoundRobinBatchSampler(MultiDatasetBatchSampler):
    """One batch from each dataset in turn, stopping when the smallest is exhausted."""

    def _dataset_order(self) -> list[int]:
        rounds = min(len(s) for s in self.batch_samplers)
        return [d for _ in range(rounds) for d in range(len(self.batch_samplers))]

    def __len__(self) -> int:
        return min(len(s) for s in self.batch_samplers) * len(self.batch_samplers)


class ProportionalBatchSampler(MultiDatasetBatchSampler):
    """Every batch of every dataset, in a random order (so datasets are sampled by size)."""

    def _dataset_order(self) -> list[int]:
        order = [d for d, s in enumerate(self.batch_samplers) for _ in range(len(s))]
        perm = torch.randperm(len(order), generator=self.generator).tolist()
        return [order[i] for i in perm]

    def __len__(self) -> int:
        return sum(len(s) for s in self.batch_samplers)
