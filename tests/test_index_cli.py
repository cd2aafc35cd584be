"""`sentforge index` and `sentforge search`: build, append, refuse, and print ranked results."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

pytest.importorskip("usearch")

from tiny_models import build_tiny_bert  # noqa: E402

from sentforge.cli import app  # noqa: E402
from sentforge.index import VectorIndex  # noqa: E402


@pytest.fixture(autouse=True)
def restore_library_logging():
    """The commands quiet transformers' logs and bars; put them back for the other test files."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    yield
    transformers.logging.set_verbosity(verbosity)
    transformers.utils.logging.enable_progress_bar()


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def write_csv(path, rows, header=("id", "text")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_index_then_search(tiny_bert_dir, tmp_path):
    corpus = write_csv(tmp_path / "corpus.csv", [("a1", "the cat sat on the mat"), ("a2", "a dog ran in the park"),
                                                 ("a3", "money in the bank")])
    result = invoke("index", tiny_bert_dir, corpus, "--out", tmp_path / "idx")
    assert result.exit_code == 0, result.output
    assert "Indexed 3 rows" in result.output
    result = invoke("search", tmp_path / "idx", "a cat on the mat", "-k", "2")
    assert result.exit_code == 0, result.output
    expected = VectorIndex.load(tmp_path / "idx").search("a cat on the mat", k=2)
    lines = [line for line in result.output.splitlines() if any(i in line for i in ("a1", "a2", "a3"))]
    assert [next(i for i in expected.ids if i in line) for line in lines] == expected.ids
    assert f"{expected.scores[0]:.4f}" in result.output


def test_search_json_lines_for_scripts(tiny_bert_dir, tmp_path):
    long_text = "the cat sat on the mat " * 30  # longer than the table shows
    corpus = write_csv(tmp_path / "corpus.csv", [("a1", long_text), ("a2", "a dog ran in the park"), ("a3", "money")])
    invoke("index", tiny_bert_dir, corpus, "--out", tmp_path / "idx")
    result = CliRunner().invoke(app, ["search", str(tmp_path / "idx"), "a cat", "-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    expected = VectorIndex.load(tmp_path / "idx").search("a cat", k=3)
    assert [h["id"] for h in hits] == expected.ids and [h["rank"] for h in hits] == [1, 2, 3]
    assert [h["score"] for h in hits] == pytest.approx(list(expected.scores), abs=1e-6)
    assert long_text.strip() in {h["text"].strip() for h in hits}


def test_jsonl_with_title_and_text_columns(tiny_bert_dir, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"_id": "1", "title": "Cats", "text": "the cat sat"}, {"_id": "2", "title": "", "text": "a dog ran"}]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = invoke("index", tiny_bert_dir, corpus, "--out", tmp_path / "idx", "--text-columns", "title,text")
    assert result.exit_code == 0, result.output
    index = VectorIndex.load(tmp_path / "idx")
    assert index.ids == ["1", "2"] and index.texts == ["Cats the cat sat", "a dog ran"]
    assert index.manifest.id_column == "_id" and index.manifest.text_columns == ["title", "text"]
    assert "Embedding 'title' + 'text' (ids from '_id')." in result.output


def test_columns_left_out_are_named_with_the_option_that_adds_them(tiny_bert_dir, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"_id": "1", "title": "Cats", "text": "the cat sat", "lang": "en"},
            {"_id": "2", "title": "Dogs", "text": "a dog ran", "lang": "en"}]
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = invoke("index", tiny_bert_dir, corpus, "--out", tmp_path / "idx")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "Embedding 'text' (ids from '_id'); not embedded: 'title', 'lang' (to embed a column too: " \
           "--text-columns title,text)." in said
    assert VectorIndex.load(tmp_path / "idx").texts == ["the cat sat", "a dog ran"]


def test_add_appends_new_ids_and_refuses_known_ones(tiny_bert_dir, tmp_path):
    invoke("index", tiny_bert_dir, write_csv(tmp_path / "a.csv", [("a1", "the cat sat")]), "--out", tmp_path / "idx")
    result = invoke("index", tiny_bert_dir, write_csv(tmp_path / "b.csv", [("a2", "a dog ran")]), "--out",
                    tmp_path / "idx", "--add")
    assert result.exit_code == 0, result.output
    assert "Added 1 rows (2 in all)" in result.output
    result = invoke("index", tiny_bert_dir, write_csv(tmp_path / "c.csv", [("a1", "again")]), "--out",
                    tmp_path / "idx", "--add")
    assert result.exit_code == 2 and "already in the index" in result.output
    assert VectorIndex.load(tmp_path / "idx").ids == ["a1", "a2"]


def test_user_errors_exit_2_with_one_line(tiny_bert_dir, tmp_path):
    corpus = write_csv(tmp_path / "corpus.csv", [("a1", "the cat sat")])
    invoke("index", tiny_bert_dir, corpus, "--out", tmp_path / "idx")
    cases = [
        (["index", tiny_bert_dir, corpus, "--out", tmp_path / "idx"], "already holds an index"),
        (["index", tiny_bert_dir, corpus, "--out", tmp_path / "new", "--add"], "needs an existing index"),
        (["index", tiny_bert_dir, corpus, "--out", tmp_path / "x", "--text-column", "body"], "no column 'body'"),
        (["index", tiny_bert_dir, write_csv(tmp_path / "noid.csv", [("t",)], header=("text",)), "--out",
          tmp_path / "y"], "No id column"),
        (["index", tiny_bert_dir, write_csv(tmp_path / "dup.csv", [("a", "x"), ("a", "y")]), "--out", tmp_path / "z"],
         "more than once"),
        (["search", tmp_path / "missing", "cat"], "No index folder"),
        (["search", tmp_path / "idx", "cat", "--model", build_tiny_bert(str(tmp_path / "other"), seed=1)],
         "built with other weights"),
    ]
    for args, words in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Error:" in result.output and words in " ".join(result.output.split()), result.output
        assert "Traceback" not in result.output


def test_overwrite_rebuilds(tiny_bert_dir, tmp_path):
    invoke("index", tiny_bert_dir, write_csv(tmp_path / "a.csv", [("a1", "the cat sat")]), "--out", tmp_path / "idx")
    result = invoke("index", tiny_bert_dir, write_csv(tmp_path / "b.csv", [("b1", "a dog ran")]), "--out",
                    tmp_path / "idx", "--overwrite")
    assert result.exit_code == 0, result.output
    assert VectorIndex.load(tmp_path / "idx").ids == ["b1"]
