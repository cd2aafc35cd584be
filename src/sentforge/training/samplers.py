"""Batch samplers: which rows form a batch (and, for several datasets, which dataset goes next).

Every sampler is deterministic given (seed, epoch), so a resumed run sees the same batches.
"""

from __future__ import annotations

import logging
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
from torch.utils.data import BatchSampler, ConcatDataset, SubsetRandomSampler

logger = logging.getLogger(__name__)

PLACEMENT_TRIES = 8
"""Orders the no-duplicates sampler tries when a placement that leaves no row out should exist."""
MAX_SWAP_SEARCHES = 256
"""Swaps looked for in one placement (each scans the placed rows); past it, rows that fit nowhere are left out."""


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
    """Batches in which no text occurs twice, so in-batch negatives are never copies of the positive.

    Every row is drawn once per epoch whenever that is possible: rows whose texts repeat most are
    spread over the batches first, then the others fill the free places, a row that fits nowhere may
    swap with a placed one, and a placement that leaves rows out is tried again from other orders. A
    text on more rows than an epoch has batches forces rows out; how many is logged and kept in
    `skip_reports` (as are the rare rows no try could place).
    """

    def __init__(self, dataset, batch_size: int, drop_last: bool = False, valid_label_columns=None,
                 generator: torch.Generator | None = None, seed: int = 0) -> None:
        super().__init__(dataset, batch_size, drop_last, valid_label_columns, generator, seed)
        label_columns = set(valid_label_columns or ("label", "score")) | {"dataset_name"}
        columns = [c for c in dataset.column_names if c not in label_columns]
        rows = zip(*(dataset[c] for c in columns)) if columns else ([] for _ in range(len(dataset)))
        # Each row's distinct texts in column order: ties are broken the same way in every process
        # (a set's order would follow the string hash seed and change the batches from run to run).
        self.row_texts = [tuple(dict.fromkeys(_hashable(value) for value in values)) for values in rows]
        self.skip_reports: dict[int, SkipReport] = {}
        self.rows_name = "rows"
        """How the log names this sampler's rows ("training rows", "evaluation rows")."""

    def __iter__(self) -> Iterator[list[int]]:
        self.generator.manual_seed(self.seed + self.epoch)
        yield from self._plan()

    def __len__(self) -> int:
        return len(_capacities(len(self.row_texts), self.batch_size, self.drop_last))

    def _plan(self) -> list[list[int]]:
        """This epoch's batches; rows that fit in none are counted in `skip_reports`.

        When rows are left out although no text is on more rows than there are batches, the placement
        is tried again from other random orders (at most `PLACEMENT_TRIES` in all) and the fullest kept.
        """
        capacities = _capacities(len(self.row_texts), self.batch_size, self.drop_last)
        counts = Counter(text for texts in self.row_texts for text in texts)
        feasible = max(counts.values(), default=0) <= len(capacities)
        best = None
        for _ in range(PLACEMENT_TRIES if feasible else 1):
            order = torch.randperm(len(self.row_texts), generator=self.generator).tolist()
            start = int(torch.randint(max(len(capacities), 1), (1,), generator=self.generator))
            batches, refused = _place(_hardest_first(order, self.row_texts, counts), self.row_texts, capacities, start)
            skipped = sum(capacities) - sum(len(b) for b in batches)
            if best is None or skipped < best[2]:
                best = (batches, refused, skipped)
            if not refused:
                break
        batches, refused, skipped = best
        if skipped:
            self._report(skipped, refused, counts, len(capacities))
        return _shuffled(batches, capacities, self.generator)

    def _report(self, skipped: int, refused: list[int], counts: Counter, batches: int) -> None:
        """Keep and log (once per dataset and epoch) how many rows this epoch leaves out."""
        text = max((t for row in refused for t in self.row_texts[row]), key=lambda t: counts[t])
        report = SkipReport(self.epoch, skipped, len(self.row_texts), str(text), counts[text], batches)
        self.skip_reports[self.epoch] = report
        if _first_time(self.dataset, (self.epoch, self.batch_size, self.drop_last, self.seed, skipped)):
            logger.warning(report.message(self.rows_name))


@dataclass(frozen=True)
class SkipReport:
    """Rows the no-duplicates sampler could not place in an epoch, and the text that forced it."""

    epoch: int
    skipped: int
    rows: int
    text: str
    text_rows: int
    batches: int

    def message(self, what: str = "training rows") -> str:
        """One sentence for the log and the model card (epochs counted from 1)."""
        shown = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        if self.text_rows > self.batches:
            why = f"{shown!r} is on {self.text_rows} rows while an epoch has {self.batches} batches"
        else:
            why = (f"no placement found in {PLACEMENT_TRIES} tries spread the repeated texts over the epoch's "
                   f"{self.batches} batches (the most repeated, {shown!r}, is on {self.text_rows} rows)")
        return (
            f"{self.skipped} of {self.rows} {what} were not drawn in epoch {self.epoch + 1}: the no-duplicates "
            f"sampler cannot place a text in a batch twice, and {why}. Deduplicate that text, lower the batch "
            "size, or use another batch sampler."
        )


def skip_reports(loader: Any) -> list[tuple[int, SkipReport]]:
    """(dataset position, report) for every no-duplicates sampler behind a data loader or sampler."""
    found: list[tuple[int, SkipReport]] = []
    for position, sampler in _no_duplicate_samplers(loader):
        found.extend((position, report) for report in sampler.skip_reports.values())
    return found


def name_rows(loader: Any, name: str) -> None:
    """Say in the no-duplicates samplers' log lines whose rows they are ("evaluation rows")."""
    for _, sampler in _no_duplicate_samplers(loader):
        sampler.rows_name = name


def _no_duplicate_samplers(obj: Any, position: int = 0, depth: int = 0) -> list[tuple[int, NoDuplicatesBatchSampler]]:
    """Walk the wrappers (accelerate's shards, resume skippers, multi-dataset samplers) down to ours."""
    if isinstance(obj, NoDuplicatesBatchSampler):
        return [(position, obj)]
    if obj is None or depth > 6:
        return []
    inner = getattr(obj, "batch_samplers", None)
    if isinstance(inner, (list, tuple)):
        return [hit for i, s in enumerate(inner) for hit in _no_duplicate_samplers(s, i, depth + 1)]
    for name in ("batch_sampler", "base_dataloader", "dataloader"):
        child = getattr(obj, name, None)
        if child is not None and child is not obj:
            hits = _no_duplicate_samplers(child, position, depth + 1)
            if hits:
                return hits
    return []


def _capacities(rows: int, batch_size: int, drop_last: bool) -> list[int]:
    """Room in each batch of an epoch: full batches, then the short last one unless dropped."""
    full, rest = divmod(rows, batch_size)
    return [batch_size] * full + ([rest] if rest and not drop_last else [])


def _hardest_first(order: list[int], row_texts: list[set], counts: Counter) -> list[int]:
    """Rows by how often their most repeated text occurs (most first), rows sharing it kept together."""
    first_seen: dict = {}
    keys = {}
    for position, row in enumerate(order):
        main = max(row_texts[row], key=lambda t: counts[t], default=None)
        group = first_seen.setdefault(main, position) if main is not None else position
        keys[row] = (-counts[main] if main is not None else 0, group, position)
    return sorted(order, key=keys.__getitem__)


def _place(rows: list[int], row_texts: list[tuple], capacities: list[int],
           start: int) -> tuple[list[list[int]], list[int]]:
    """Put each row in the next open batch (cycling) that lacks its texts; return batches and refused rows.

    Consecutive rows of one text land in consecutive batches, so a text on R rows fills min(R, batches)
    batches. A row that fits no open batch is swapped in for a row of a full batch that can move to an
    open one; only when no such swap exists is it refused. A row arriving when every batch is full
    (drop_last's leftover) is not refused, just not drawn.
    """
    batches: list[list[int]] = [[] for _ in capacities]
    texts: list[set] = [set() for _ in capacities]
    open_batches = [b for b, room in enumerate(capacities) if room]
    cursor = start % len(open_batches) if open_batches else 0
    refused: list[int] = []
    holders: Counter = Counter()  # text -> batches holding it
    searches = 0

    def put(row: int, at: int) -> None:
        """Place ``row`` in ``open_batches[at]``."""
        nonlocal cursor
        b = open_batches[at]
        batches[b].append(row)
        texts[b].update(row_texts[row])
        holders.update(row_texts[row])
        if len(batches[b]) == capacities[b]:
            open_batches.pop(at)
            cursor = at % len(open_batches) if open_batches else 0
        else:
            cursor = (at + 1) % len(open_batches)

    for row in rows:
        if not open_batches:
            break
        for step in range(len(open_batches)):
            at = (cursor + step) % len(open_batches)
            if texts[open_batches[at]].isdisjoint(row_texts[row]):
                put(row, at)
                break
        else:
            everywhere = any(holders[text] >= len(batches) for text in row_texts[row])  # no swap can help
            searches += not everywhere
            if everywhere or searches > MAX_SWAP_SEARCHES or not _swap_in(
                    row, row_texts, batches, texts, holders, open_batches, put):
                refused.append(row)
    return batches, refused


def _swap_in(row: int, row_texts: list[tuple], batches: list[list[int]], texts: list[set], holders: Counter,
             open_batches: list[int], put) -> bool:
    """Find a placed row that can move to an open batch and leave room for ``row`` where it was."""
    needed = row_texts[row]
    for b, members in enumerate(batches):
        clashes = texts[b].intersection(needed)
        for position, other in enumerate(members):
            if not clashes.issubset(row_texts[other]):
                continue
            target = next((at for at, o in enumerate(open_batches)
                           if o != b and texts[o].isdisjoint(row_texts[other])), None)
            if target is None:
                continue
            members[position] = row
            texts[b].difference_update(row_texts[other])
            texts[b].update(needed)
            holders.subtract(row_texts[other])
            holders.update(needed)
            put(other, target)
            return True
    return False


def _shuffled(batches: list[list[int]], capacities: list[int], generator: torch.Generator) -> list[list[int]]:
    """Batches in a random order, the short last batch (if any) kept last as a plain sampler has it."""
    if not capacities:
        return []
    full = [b for b, room in zip(batches, capacities) if room == max(capacities)]
    short = [b for b, room in zip(batches, capacities) if room != max(capacities)]
    return [full[i] for i in torch.randperm(len(full), generator=generator).tolist()] + short


def _hashable(value: Any) -> Any:
    """A cell as a set member (lists and dicts by their text)."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


_REPORTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _first_time(dataset: Any, key: tuple) -> bool:
    """Whether this dataset's skip for `key` is new (evaluation rebuilds its sampler every time)."""
    try:
        seen = _REPORTED.setdefault(dataset, set())
    except TypeError:
        return True
    if key in seen:
        return False
    seen.add(key)
    return True


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

