"""The no-duplicates batch sampler draws every row once per epoch when that is possible; when a text sits
on more rows than an epoch has batches, it says exactly how many rows it left out (log and model card)."""

from __future__ import annotations

import logging
import os

import pytest
from datasets import Dataset

from sentforge import SentenceTransformer, SentenceTransformerTrainer, SentenceTransformerTrainingArguments, losses
from sentforge.training.samplers import NoDuplicatesBatchSampler, ProportionalBatchSampler, skip_reports
from sentforge.training_args import BatchSamplers


def _frequent_positive(rows: int, every: int) -> Dataset:
    """Anchors all distinct; one positive text on every `every`-th row (e.g. every 5th = 20% of rows)."""
    positives = ["software engineer" if i % every == 0 else f"job title {i}" for i in range(rows)]
    return Dataset.from_dict({"anchor": [f"resume {i}" for i in range(rows)], "positive": positives})


def _epoch(sampler: NoDuplicatesBatchSampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


def _assert_no_text_twice(dataset: Dataset, batches: list[list[int]]) -> None:
    for batch in batches:
        texts = [dataset[i][c] for i in batch for c in ("anchor", "positive")]
        assert len(texts) == len(set(texts)), batch


@pytest.mark.parametrize(("rows", "every", "batch_size"), [(100, 5, 4), (1000, 5, 5), (997, 4, 3), (300, 3, 3)])
def test_every_row_is_drawn_once_when_feasible(rows, every, batch_size) -> None:
    dataset = _frequent_positive(rows, every)
    sampler = NoDuplicatesBatchSampler(dataset, batch_size=batch_size, drop_last=False, seed=7)
    for epoch in range(3):
        batches = _epoch(sampler, epoch)
        drawn = [i for batch in batches for i in batch]
        assert sorted(drawn) == list(range(rows))
        assert len(batches) == len(sampler)
        _assert_no_text_twice(dataset, batches)
        assert all(len(b) == batch_size for b in batches[:-1])
    assert sampler.skip_reports == {}


def test_batches_are_reproducible_and_change_per_epoch() -> None:
    dataset = _frequent_positive(200, 5)
    first = NoDuplicatesBatchSampler(dataset, batch_size=4, seed=3)
    again = NoDuplicatesBatchSampler(dataset, batch_size=4, seed=3)
    assert _epoch(first, 1) == _epoch(again, 1)
    assert _epoch(first, 0) != _epoch(first, 1)


@pytest.mark.parametrize(("rows", "drop_last", "batches", "last"), [(102, True, 25, 4), (102, False, 26, 2), (100, True, 25, 4)])
def test_drop_last_keeps_its_meaning(rows, drop_last, batches, last) -> None:
    dataset = _frequent_positive(rows, 5)
    sampler = NoDuplicatesBatchSampler(dataset, batch_size=4, drop_last=drop_last)
    drawn = _epoch(sampler, 0)
    assert len(sampler) == len(drawn) == batches
    assert all(len(b) == 4 for b in drawn[:-1]) and len(drawn[-1]) == last
    assert len({i for b in drawn for i in b}) == sum(map(len, drawn))
    assert sampler.skip_reports == {}


def test_infeasible_rows_are_counted_exactly_and_logged(caplog) -> None:
    # 30 of 60 rows share a positive; 4 rows a batch gives 15 batches, so 15 of those 30 rows cannot be placed.
    dataset = _frequent_positive(60, 2)
    sampler = NoDuplicatesBatchSampler(dataset, batch_size=4, drop_last=False)
    with caplog.at_level(logging.WARNING, logger="sentforge.training.samplers"):
        batches = _epoch(sampler, 0)
    drawn = [i for b in batches for i in b]
    assert len(drawn) == len(set(drawn)) == 45
    assert len(batches) == len(sampler) == 15
    _assert_no_text_twice(dataset, batches)
    report = sampler.skip_reports[0]
    assert (report.skipped, report.rows, report.text, report.text_rows, report.batches) == (15, 60, "software engineer", 30, 15)
    messages = [r.getMessage() for r in caplog.records if r.name == "sentforge.training.samplers"]
    assert len(messages) == 1 and messages[0].startswith("15 of 60 rows were not drawn in epoch 1")
    assert "'software engineer' is on 30 rows" in messages[0]


def test_infeasible_count_with_drop_last_excludes_the_dropped_tail(caplog) -> None:
    # 102 rows, 4 a batch, drop_last: 25 batches; 51 rows share a text, so 26 of them cannot be placed, of which
    # 2 would be dropped by drop_last anyway.
    dataset = _frequent_positive(102, 2)
    sampler = NoDuplicatesBatchSampler(dataset, batch_size=4, drop_last=True)
    with caplog.at_level(logging.WARNING, logger="sentforge.training.samplers"):
        batches = _epoch(sampler, 0)
    drawn = sum(map(len, batches))
    assert len(batches) == len(sampler) == 25
    assert sampler.skip_reports[0].skipped == 100 - drawn == 24
    assert any(r.getMessage().startswith("24 of 102 rows") for r in caplog.records)


def test_reports_are_found_behind_wrappers() -> None:
    dataset = _frequent_positive(60, 2)
    inner = NoDuplicatesBatchSampler(dataset, batch_size=4)
    _epoch(inner, 0)

    class Shard:  # as accelerate wraps a batch sampler
        batch_sampler = inner

    class Loader:
        batch_sampler = Shard()

    assert [(p, r.skipped) for p, r in skip_reports(Loader())] == [(0, 15)]
    multi = ProportionalBatchSampler.__new__(ProportionalBatchSampler)
    multi.batch_samplers = [NoDuplicatesBatchSampler(_frequent_positive(8, 1), batch_size=2), inner]
    assert [(p, r.skipped) for p, r in skip_reports(multi)] == [(1, 15)]


def test_trainer_card_says_how_many_rows_were_not_drawn(tiny_bert_dir, tmp_path) -> None:
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "run"), num_train_epochs=2, per_device_train_batch_size=4, logging_steps=5,
        save_strategy="no", report_to=[], disable_tqdm=True, batch_sampler=BatchSamplers.NO_DUPLICATES, seed=1,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=_frequent_positive(60, 2),
                                         loss=losses.MultipleNegativesRankingLoss(model))
    trainer.train()
    notes = trainer.recorder.skipped_row_notes()
    assert [n.split(":")[0] for n in notes] == [
        "15 of 60 training rows were not drawn in epoch 1", "15 of 60 training rows were not drawn in epoch 2",
    ]
    assert trainer.state.global_step == 30
    final = tmp_path / "final"
    model.save(str(final))
    card = (final / "README.md").read_text(encoding="utf-8")
    assert "### Rows Not Drawn" in card
    assert "* 15 of 60 training rows were not drawn in epoch 2: the no-duplicates sampler cannot place a text" in card
    assert os.path.exists(final / "README.md")


def test_card_has_no_note_when_every_row_is_drawn(tiny_bert_dir, tmp_path) -> None:
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "run"), num_train_epochs=1, per_device_train_batch_size=4, save_strategy="no",
        report_to=[], disable_tqdm=True, batch_sampler=BatchSamplers.NO_DUPLICATES,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=_frequent_positive(40, 5),
                                         loss=losses.MultipleNegativesRankingLoss(model))
    trainer.train()
    assert trainer.recorder.skipped_row_notes() == []
    model.save(str(tmp_path / "final"))
    assert "Rows Not Drawn" not in (tmp_path / "final" / "README.md").read_text(encoding="utf-8")


def _latin(batch_size: int, batches: int, seed: int) -> Dataset:
    """Every text on exactly `batches` rows, rows pairing them like a Latin square: a placement drawing every
    row exists (batch b holds (A_k, B_(k+b) mod n)), but a first-fit pass often misses it."""
    import random

    rows = [(f"A{k}", f"B{(k + b) % batch_size}") for b in range(batches) for k in range(batch_size)]
    random.Random(seed).shuffle(rows)
    return Dataset.from_dict({"anchor": [a for a, _ in rows], "positive": [p for _, p in rows]})


@pytest.mark.parametrize("batch_size, batches", [(4, 6), (3, 4), (5, 10), (8, 6)])
def test_tight_layouts_that_can_be_drawn_whole_are(batch_size, batches) -> None:
    for seed in range(12):
        dataset = _latin(batch_size, batches, seed)
        sampler = NoDuplicatesBatchSampler(dataset, batch_size=batch_size, seed=seed)
        for epoch in range(3):
            drawn = _epoch(sampler, epoch)
            assert sorted(i for b in drawn for i in b) == list(range(len(dataset))), (seed, epoch)
            _assert_no_text_twice(dataset, drawn)
        assert sampler.skip_reports == {}


_BATCHES_SCRIPT = """
from datasets import Dataset
from sentforge.training.samplers import NoDuplicatesBatchSampler
anchors = [f"question {i % 7}" for i in range(40)]
positives = [f"answer {i % 5}" if i % 3 else f"answer {i}" for i in range(40)]
sampler = NoDuplicatesBatchSampler(Dataset.from_dict({"q": anchors, "a": positives}), batch_size=4, seed=5)
print([list(sampler) for sampler.epoch in range(2)])
"""


def test_batches_do_not_depend_on_the_string_hash_seed() -> None:
    """A run repeats exactly in a new process: ties between a row's texts are not broken by set order."""
    import subprocess
    import sys

    def batches(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        return subprocess.run([sys.executable, "-c", _BATCHES_SCRIPT], env=env, capture_output=True, text=True,
                              check=True).stdout

    first = batches("1")
    assert first.startswith("[[[") and all(batches(seed) == first for seed in ("2", "3", "4"))


def test_rows_left_out_of_an_evaluation_split_are_named_evaluation_rows(tiny_bert_dir, tmp_path, caplog) -> None:
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path / "run"), per_device_eval_batch_size=4, report_to=[], disable_tqdm=True,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
    )
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=_frequent_positive(40, 5),
                                         eval_dataset=_frequent_positive(60, 2),
                                         loss=losses.MultipleNegativesRankingLoss(model))
    with caplog.at_level(logging.WARNING, logger="sentforge.training.samplers"):
        list(trainer.get_eval_dataloader())
    messages = [r.getMessage() for r in caplog.records if r.name == "sentforge.training.samplers"]
    assert len(messages) == 1 and messages[0].startswith("15 of 60 evaluation rows were not drawn in epoch 1")
