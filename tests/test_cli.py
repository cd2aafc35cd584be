"""The `sentforge` command: version, help, and one clear message (exit code 2, no traceback) per bad input."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from sentforge import __version__
from sentforge.cli import app

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
WORDS = "law mining permit claim land gold coal rock miner owner court rule right license fee year month day".split()


def _library_state() -> tuple:
    import logging

    import datasets
    import transformers

    return (logging.getLogger("sentforge.evaluation").level, transformers.logging.get_verbosity(),
            datasets.is_progress_bar_enabled())


_PRISTINE_STATE = _library_state()  # taken at collection, before any command has run


@pytest.fixture(autouse=True)
def restore_library_state():
    """The commands quiet the libraries' logs and progress bars; put them back for the other test files."""
    import logging

    import datasets
    import transformers

    yield
    level, verbosity, bars = _PRISTINE_STATE
    logging.getLogger("sentforge.evaluation").setLevel(level)
    transformers.logging.set_verbosity(verbosity)
    transformers.utils.logging.enable_progress_bar()
    if bars:
        datasets.enable_progress_bars()


def invoke(*args) -> object:
    return CliRunner().invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    """Output with rich's line wrapping and table borders undone, for substring checks."""
    for border in "│┃":
        text = text.replace(border, " ")
    return " ".join(text.split())


def assert_user_error(result, *expected: str) -> None:
    """Exit code 2, one 'Error:' message, no traceback, and the expected words in it."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.count("Error:") == 1, result.output
    message = flat(result.output[result.output.index("Error:"):])
    for words in expected:
        assert words in message, message


def write_csv(path: Path, header: list[str], rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def pairs(count: int) -> list[tuple[str, str]]:
    return [(f"the {WORDS[i % 18]} of the {WORDS[(i * 7) % 18]} {i}", f"a {WORDS[(i * 7) % 18]} {i}") for i in range(count)]


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"sentforge {__version__}"


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("train", "check", "encode", "eval", "similarity", "info", "card", "recipe"):
        assert command in result.output


def test_runs_as_python_module() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "sentforge.cli", "--version"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"sentforge {__version__}"


# -- bad files: each one message, exit code 2, no traceback ---------------------------------------------


def test_missing_file(tmp_path) -> None:
    assert_user_error(invoke("train", tmp_path / "nowhere.csv"), "not found", "nowhere.csv")


def test_empty_file(tmp_path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert_user_error(invoke("train", empty), "empty")


def test_header_only_file(tmp_path) -> None:
    header = write_csv(tmp_path / "header.csv", ["question", "answer"], [])
    assert_user_error(invoke("check", header, "--base", "none"), "no data rows")


def test_missing_column(tmp_path) -> None:
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], pairs(10))
    assert_user_error(invoke("train", data, "--columns", "question,reply"), "'reply'", "question, answer")


def test_ragged_csv(tmp_path) -> None:
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("question,answer\nthe law,a rock\nthe gold,a coal,extra\n", encoding="utf-8")
    assert_user_error(invoke("train", ragged), "line 3", "3 fields", "header has 2")


def test_non_utf8_bytes(tmp_path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("question,answer\ncaf\xe9 law,a rock\n".encode("latin-1"))
    assert_user_error(invoke("train", latin), "not valid UTF-8", "0xe9", "line 2")


def test_huge_single_text(tmp_path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("w", encoding="utf-8") as handle:
        handle.write("question,answer\nthe law,")
        handle.write("rock " * 10_000_000)  # 50 MB in one cell
        handle.write("\n")
    assert_user_error(invoke("train", huge), "row 1", "answer", "limit is 1,000,000")


def test_nan_label_is_stopped_by_the_doctor(tmp_path, tiny_bert_dir) -> None:
    rows = [(a, b, float(i % 2)) for i, (a, b) in enumerate(pairs(12))]
    rows[3] = (rows[3][0], rows[3][1], "")
    data = write_csv(tmp_path / "labels.csv", ["sentence1", "sentence2", "label"], rows)
    result = invoke("train", data, "--base", tiny_bert_dir, "--batch-size", 4, "--output", tmp_path / "out")
    assert_user_error(result, "nan-label", "Give every row a numeric label")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("loss", ["ContrastiveLoss", "CosineSimilarityLoss"])
def test_label_seven_for_a_bounded_loss(tmp_path, tiny_bert_dir, loss) -> None:
    rows = [(a, b, i % 2) for i, (a, b) in enumerate(pairs(20))] + [("the law of the land", "a rock", 7)]
    data = write_csv(tmp_path / "labels.csv", ["sentence1", "sentence2", "label"], rows)
    result = invoke("train", data, "--base", tiny_bert_dir, "--loss", loss, "--batch-size", 4,
                    "--output", tmp_path / "out")
    assert_user_error(result, "label-out-of-range", "7")
    assert not (tmp_path / "out").exists()


def test_output_that_is_a_file(tmp_path) -> None:
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], pairs(10))
    taken = tmp_path / "model"
    taken.write_text("not a folder", encoding="utf-8")
    assert_user_error(invoke("train", data, "--output", taken), "is a file, not a folder")


def test_unknown_model(tmp_path) -> None:
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], pairs(10))
    assert_user_error(invoke("train", data, "--base", tmp_path / "no-such-model"), "no-such-model")


def test_unknown_loss(tmp_path, tiny_bert_dir) -> None:
    data = write_csv(tmp_path / "pairs.csv", ["question", "answer"], pairs(10))
    assert_user_error(invoke("train", data, "--base", tiny_bert_dir, "--loss", "CosentLoss"), "CoSENTLoss")


def test_recipe_missing_training_data(tmp_path) -> None:
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("base_model: all-MiniLM-L6-v2\nloss: CoSENTLoss\n", encoding="utf-8")
    assert_user_error(invoke("train", "--config", recipe), "data.train")


def test_check_exit_codes(tmp_path) -> None:
    good = write_csv(tmp_path / "good.csv", ["question", "answer"], pairs(200))
    result = invoke("check", good, "--base", "none", "--batch-size", 16)
    assert result.exit_code == 0, result.output
    assert "no errors" in flat(result.output).lower()
    empty_text = write_csv(tmp_path / "bad.csv", ["question", "answer"], pairs(40) + [("the law", " ")])
    result = invoke("check", empty_text, "--base", "none", "--batch-size", 8)
    assert_user_error(result, "empty-text")
    assert "ERROR" in result.output and "Fill in or drop those rows" in flat(result.output)


# -- recipe from-card on the seed cards ------------------------------------------------------------------


def seed_cards() -> list[Path]:
    return sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []


@pytest.mark.skipif(not seed_cards(), reason="seed cards not found")
@pytest.mark.parametrize("card", seed_cards(), ids=lambda path: path.name[:3])
def test_recipe_from_seed_card(card: Path, tmp_path) -> None:
    printed = invoke("recipe", "from-card", card)
    assert printed.exit_code == 0, printed.output
    recipe = yaml.safe_load(printed.output)
    front = yaml.safe_load(card.read_text(encoding="utf-8").split("---")[1])
    tagged = {tag[5:] for tag in front["tags"] if tag.startswith("loss:")}
    assert recipe["loss"]["name"].rsplit(".", 1)[-1] in tagged
    assert recipe["base_model"] == front.get("base_model")
    assert recipe["notes"]
    target = tmp_path / "recipe.yaml"
    written = invoke("recipe", "from-card", card, "-o", target)
    assert written.exit_code == 0, written.output
    assert yaml.safe_load(target.read_text(encoding="utf-8")) == recipe
    assert f"Notes ({len(recipe['notes'])})" in written.output


def test_recipe_from_card_not_a_card(tmp_path) -> None:
    text = tmp_path / "README.md"
    text.write_text("# Just a readme\n\nNothing about models.\n", encoding="utf-8")
    assert_user_error(invoke("recipe", "from-card", text), "does not look like")


def test_metrics_json_is_strict_json(tmp_path) -> None:
    """The metrics writer never emits NaN tokens (invalid JSON): NaN becomes null."""
    from sentforge.pipeline.metrics_file import _json_number, write_metrics

    write_metrics(str(tmp_path), {"final": {"x": _json_number(float("nan")), "y": 0.5}})
    assert json.loads((tmp_path / "metrics.json").read_text())["final"] == {"x": None, "y": 0.5}
