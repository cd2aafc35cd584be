"""Checks on the demo question-answer set in examples/data (the default data of `make demo`).

The set is hand-written, so these tests guard its shape: sizes, header, well-formed CSV,
no blanks or duplicates, and no text shared between the train and eval splits.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parent.parent / "examples" / "data"
HEADER = ["question", "answer"]
SIZE_RANGES = {"demo_train.csv": (320, 400), "demo_eval.csv": (80, 100)}


def read_rows(name: str) -> list[list[str]]:
    """All records of a demo file as parsed by the csv module, header included."""
    raw = (DATA_DIR / name).read_bytes()
    text = raw.decode("utf-8")  # raises if the file is not valid UTF-8
    return list(csv.reader(text.splitlines(keepends=True), strict=True))


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form, so near-identical copies also count as shared."""
    return " ".join(text.lower().split())


@pytest.fixture(scope="module", params=sorted(SIZE_RANGES))
def demo_file(request) -> tuple[str, list[list[str]]]:
    return request.param, read_rows(request.param)


def test_header_is_question_answer(demo_file):
    _, rows = demo_file
    assert rows[0] == HEADER


def test_row_count_in_range(demo_file):
    name, rows = demo_file
    low, high = SIZE_RANGES[name]
    assert low <= len(rows) - 1 <= high, f"{name} has {len(rows) - 1} data rows"


def test_every_row_has_two_fields(demo_file):
    name, rows = demo_file
    bad = [i for i, row in enumerate(rows, start=1) if len(row) != 2]
    assert not bad, f"{name}: records with a field count other than 2 at lines {bad[:5]}"


def test_no_empty_cells(demo_file):
    name, rows = demo_file
    empty = [i for i, row in enumerate(rows[1:], start=2) if any(not cell.strip() for cell in row)]
    assert not empty, f"{name}: empty cells in records {empty[:5]}"


def test_dict_reader_sees_same_rows(demo_file):
    name, rows = demo_file
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert [[r["question"], r["answer"]] for r in records] == rows[1:]


def test_questions_and_answers_unique_within_file(demo_file):
    name, rows = demo_file
    for column, label in ((0, "question"), (1, "answer")):
        values = [normalise(row[column]) for row in rows[1:]]
        dupes = {v for v in values if values.count(v) > 1}
        assert not dupes, f"{name}: duplicate {label}s: {sorted(dupes)[:3]}"


def test_no_answer_repeats_a_question(demo_file):
    name, rows = demo_file
    questions = {normalise(row[0]) for row in rows[1:]}
    clashes = [row[1] for row in rows[1:] if normalise(row[1]) in questions]
    assert not clashes, f"{name}: answers identical to some question: {clashes[:3]}"


def test_no_text_shared_between_train_and_eval():
    train = read_rows("demo_train.csv")[1:]
    evaluation = read_rows("demo_eval.csv")[1:]
    train_cells = {normalise(cell) for row in train for cell in row}
    shared = [cell for row in evaluation for cell in row if normalise(cell) in train_cells]
    assert not shared, f"eval text also found in train: {shared[:3]}"
