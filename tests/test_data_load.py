"""Loading data: every file format and in-memory table, one clear error per bad file, column roles,
and the loaders for the shared benchmark sets (row counts as published in the data's README)."""

from __future__ import annotations

import json
import tracemalloc

import datasets
import pandas as pd
import pytest

from sentforge.data import files
from sentforge.data.load import load_data
from sentforge.data.roles import LABEL_COLUMN_NAMES, apply_column_mapping, infer_roles, normalize_labels
from sentforge.data.shared_sets import (
    load_mrpc,
    load_nli_triplets,
    load_scifact,
    load_scifact_pairs,
    load_stsb,
    shared_data_root,
)
from sentforge.errors import SentforgeError


def write(path, content: str | bytes):
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


# --- good files and tables ---------------------------------------------------------------------


def test_csv_with_bom_quoting_and_number_typing(tmp_path):
    path = write(tmp_path / "d.csv", b'\xef\xbb\xbfs1,s2,score\nhello,"a, quoted ""text""",1.5\nx,y,\n')
    data = load_data(path)
    assert data.column_names == ["s1", "s2", "score"]  # BOM not glued to the first name
    assert data["s2"] == ['a, quoted "text"', "y"]
    assert data["score"] == [1.5, None]
    assert data.features["score"].dtype == "float64"


def test_tsv_ints_and_multiline_quoted_field(tmp_path):
    path = write(tmp_path / "d.tsv", 'a\tb\tlabel\n"two\nlines"\tz\t1\nq\tw\t0\n')
    data = load_data(str(path))
    assert data["a"] == ["two\nlines", "q"]
    assert data["label"] == [1, 0]
    assert data.features["label"].dtype == "int64"


def test_tsv_with_unpaired_quotes_reads_quotes_as_text(tmp_path):
    """MRPC's shape: a text opens a quote it never closes; tab-separated data is then read unquoted."""
    path = write(tmp_path / "d.tsv", 'label\ta\tb\r\n1\t"We are declaring war.\t"We have declared war," he said.\r\n'
                                    '0\tplain\ttext\r\n')
    data = load_data(str(path))
    assert data["a"] == ['"We are declaring war.', "plain"]
    assert data["b"] == ['"We have declared war," he said.', "text"]
    assert data["label"] == [1, 0]


def test_tab_separated_file_named_csv_is_named_as_such(tmp_path):
    path = write(tmp_path / "sts-dev.csv", "main-captions\tMSRvid\t2012test\t0000\t5.000\tA man.\tA man dances.\n")
    with pytest.raises(SentforgeError, match="looks tab-separated.*Rename it to .tsv"):
        load_data(str(path))


def test_tsv_that_is_ragged_either_way_keeps_the_ragged_error(tmp_path):
    path = write(tmp_path / "d.tsv", "a\tb\nx\ty\nonly-one\n")
    with pytest.raises(SentforgeError, match="line 3 has 1 fields but the header has 2"):
        load_data(str(path))


@pytest.mark.parametrize("suffix", [".jsonl", ".ndjson"])
def test_json_lines(tmp_path, suffix):
    rows = [{"anchor": "a", "positive": "b"}, {"anchor": "c", "positive": "d", "negative": "e"}]
    path = write(tmp_path / f"d{suffix}", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    data = load_data(path)
    assert data.column_names == ["anchor", "positive", "negative"]
    assert data["negative"] == [None, "e"]


def test_json_list_of_records_and_dict_of_lists(tmp_path):
    records = write(tmp_path / "r.json", json.dumps([{"q": "x", "a": "y"}, {"q": "z", "a": "w"}]))
    columns = write(tmp_path / "c.json", json.dumps({"q": ["x", "z"], "a": ["y", "w"]}))
    assert load_data(records).to_dict() == load_data(columns).to_dict() == {"q": ["x", "z"], "a": ["y", "w"]}


def test_parquet(tmp_path):
    frame = pd.DataFrame({"s1": ["a", "b"], "s2": ["c", "d"], "score": [0.1, 0.9]})
    frame.to_parquet(tmp_path / "d.parquet")
    assert load_data(tmp_path / "d.parquet").to_dict() == frame.to_dict(orient="list")


def test_in_memory_sources():
    expected = {"s1": ["a", "b"], "s2": ["c", "d"]}
    dataset = datasets.Dataset.from_dict(expected)
    assert load_data(dataset) is dataset
    assert load_data(pd.DataFrame(expected)).to_dict() == expected
    assert load_data([{"s1": "a", "s2": "c"}, {"s1": "b", "s2": "d"}]).to_dict() == expected
    assert load_data(dict(expected)).to_dict() == expected


def test_folder_saved_by_datasets(tmp_path):
    splits = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"a": ["x"]}), test=datasets.Dataset.from_dict({"a": ["y"]})
    )
    splits.save_to_disk(str(tmp_path / "saved"))
    assert load_data(tmp_path / "saved", split="test")["a"] == ["y"]


def test_dataset_dict_split_selection():
    splits = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"a": ["x"]}), test=datasets.Dataset.from_dict({"a": ["y"]})
    )
    assert load_data(splits, split="test")["a"] == ["y"]
    with pytest.raises(SentforgeError, match="several splits \\(train, test\\)"):
        load_data(splits)
    with pytest.raises(SentforgeError, match="no split 'dev'. Its splits are: train, test"):
        load_data(splits, split="dev")
    single = datasets.DatasetDict(only=datasets.Dataset.from_dict({"a": ["z"]}))
    assert load_data(single)["a"] == ["z"]


@pytest.mark.parametrize(
    "source, message",
    [
        ([], "empty"),
        ([{"a": "x"}, "text"], "Item 1 of the list is a str"),
        ([{"a": "x"}, {"a": 3}], "column 'a' mixes str \\(first at row 1\\), number \\(first at row 2\\)"),
        ({"a": ["x", "y"], "b": ["z"]}, "different lengths \\(a: 2, b: 1\\)"),
        (datasets.Dataset.from_dict({"a": []}), "no rows"),
        (42, "Cannot load data from a int"),
    ],
)
def test_bad_in_memory_sources(source, message):
    with pytest.raises(SentforgeError, match=message):
        load_data(source)


# --- bad files: one SentforgeError each, saying what and where ---------------------------------


BAD_FILES = {
    "missing": (None, "nothing.csv", "not found"),
    "zero bytes": (b"", "d.csv", "is empty \\(0 bytes\\)"),
    "only a BOM": (b"\xef\xbb\xbf", "d.csv", "blank"),
    "header only": (b"s1,s2\n", "d.csv", "has a header \\(s1, s2\\) but no data rows"),
    "empty jsonl": (b"\n\n  \n", "d.jsonl", "no rows"),
    "empty json list": (b"[]", "d.json", "empty list"),
    "ragged csv": (b"s1,s2\na,b\nc,d\ne,f,g\n", "d.csv", "line 4 has 3 fields but the header has 2"),
    "short row tsv": (b"s1\ts2\na\tb\nc\n", "d.tsv", "line 3 has 1 fields but the header has 2"),
    "duplicate header": (b"s,s\na,b\n", "d.csv", "repeats column name\\(s\\) s"),
    "unnamed header column": (b"s1,,s3\na,b,c\n", "d.csv", "column 2 of the header row has no name"),
    "no header line": (b"A plane is taking off.,An air plane is taking off.,5.0\nA man.,A boy.,2.0\n", "d.csv",
                       "first line of 'd.csv' looks like data.*number 5.0"),
    "latin-1 bytes": (b"s1,s2\nok,fine\ncaf\xe9,x\n", "d.csv", "byte 0xe9 at byte offset 17 \\(line 3\\).*iconv"),
    "invalid json line": (b'{"a": "x"}\n{"a": "y",}\n', "d.jsonl", "line 2 is not valid JSON"),
    "json line not an object": (b'{"a": "x"}\n["y"]\n', "d.jsonl", "line 2 is a JSON list, not an object"),
    "jsonl named json": (b'{"a": "x"}\n{"a": "y"}\n', "d.json", "line 2.*rename the file to .jsonl"),
    "broken json": (b'[{"a": "x"},\n {"a": }]', "d.json", "not valid JSON.*line 2"),
    "json scalar": (b'"text"', "d.json", "holds a JSON str"),
    "unknown extension": (b"a,b\n", "d.xlsx", "unknown extension '.xlsx'.*Supported: .csv"),
    "not parquet": (b"this is not parquet", "d.parquet", "could not be read as parquet"),
    "mixed json types": (b'[{"a": "x"}, {"a": 1}]', "d.json", "column 'a' mixes"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_file_gives_one_clear_error(tmp_path, case):
    content, name, message = BAD_FILES[case]
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SentforgeError, match=message) as caught:
        load_data(path)
    assert name in str(caught.value) or case in ("empty json list", "mixed json types")
    assert "Traceback" not in str(caught.value)


def test_folder_is_not_a_data_file(tmp_path):
    with pytest.raises(SentforgeError, match="is a folder"):
        load_data(tmp_path)


def test_non_utf8_offset_is_exact_across_read_chunks(tmp_path):
    # A valid 2-byte character straddles the 1 MiB read boundary; a bad byte comes later.
    prefix = b"s1\n" + b"a" * (files._CHUNK_BYTES - 4) + "é".encode() + b"\n"
    assert prefix.index("é".encode()) == files._CHUNK_BYTES - 1
    good = write(tmp_path / "good.csv", prefix + b"ok\n")
    assert load_data(good, max_cell_chars=None)["s1"][1] == "ok"
    bad = write(tmp_path / "bad.csv", prefix + b"b\xff\n")
    with pytest.raises(SentforgeError, match=f"byte 0xff at byte offset {len(prefix) + 1} \\(line 3\\)"):
        load_data(bad)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_fifty_megabyte_cell_is_rejected_without_blowing_memory(tmp_path, suffix):
    big = "word " * (10 * 1024 * 1024)  # 50 MiB of text in one cell
    if suffix == ".csv":
        write(tmp_path / "big.csv", "s1,s2\nshort,text\n" + f"fine,{big}\n")
    else:
        rows = [{"s1": "short", "s2": "text"}, {"s1": "fine", "s2": big}]
        write(tmp_path / "big.jsonl", "\n".join(json.dumps(row) for row in rows))
        del rows
    del big
    tracemalloc.start()
    try:
        expected = "row 2 \\(line \\d\\), column 's2' is .*characters.*Split or truncate"
        with pytest.raises(SentforgeError, match=expected):
            load_data(tmp_path / f"big{suffix}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200 * 1024 * 1024  # the 50 MB line and one copy of it, not a parsed table


def test_cell_limit_applies_to_in_memory_tables_and_can_be_raised():
    rows = [{"a": "x" * 2_000, "b": "y"}]
    with pytest.raises(SentforgeError, match="row 1, column 'a' is 2,000 characters"):
        load_data(rows, max_cell_chars=1_000)
    assert len(load_data(rows, max_cell_chars=5_000)) == 1


# --- hub ids -----------------------------------------------------------------------------------


def test_hub_id_goes_to_datasets_and_offline_failure_is_clear(monkeypatch):
    calls = []

    def offline(name, config=None, split=None, **kwargs):
        calls.append((name, config, split))
        raise ConnectionError("Couldn't reach 'sentence-transformers/stsb' on the Hub (offline)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(SentforgeError, match="not a local file.*Hugging Face Hub: Couldn't reach.*network"):
        load_data("sentence-transformers/stsb", split="test")
    assert calls == [("sentence-transformers/stsb", None, "test")]


def test_hub_dataset_dict_split_and_local_paths_never_go_to_the_hub(monkeypatch, tmp_path):
    splits = datasets.DatasetDict(
        train=datasets.Dataset.from_dict({"a": ["x"]}), test=datasets.Dataset.from_dict({"a": ["y"]})
    )
    monkeypatch.setattr(datasets, "load_dataset", lambda name, config=None, split=None: splits)
    with pytest.raises(SentforgeError, match="Hub dataset 'org/set' has several splits"):
        load_data("org/set")
    monkeypatch.setattr(datasets, "load_dataset", lambda *a, **k: pytest.fail("a file path went to the hub"))
    with pytest.raises(SentforgeError, match="not found"):
        load_data("data/train.csv")
    local = write(tmp_path / "org_set.csv", "a\nz\n")
    assert load_data(local)["a"] == ["z"]


# --- column roles ------------------------------------------------------------------------------


def test_label_column_names_match_sentence_transformers():
    from sentence_transformers.util.dataset import DEFAULT_LABEL_COLUMNS

    assert LABEL_COLUMN_NAMES == tuple(DEFAULT_LABEL_COLUMNS)


MNRL, IR = "MultipleNegativesRankingLoss", "InformationRetrievalEvaluator"
SHAPES = {  # columns -> (task, loss, evaluator, text columns, label column)
    "pairs": ({"q": ["a", "b"], "p": ["c", "d"]}, ("pairs", MNRL, IR, ("q", "p"), None)),
    "scored": (
        {"s1": ["a", "b"], "s2": ["c", "d"], "score": [0.2, 0.9]},
        ("scored-pairs", "CoSENTLoss", "EmbeddingSimilarityEvaluator", ("s1", "s2"), "score"),
    ),
    "binary": (
        {"s1": ["a", "b"], "s2": ["c", "d"], "label": [0, 1]},
        ("binary-pairs", "ContrastiveLoss", "BinaryClassificationEvaluator", ("s1", "s2"), "label"),
    ),
    "triplet": ({"a": ["a"], "p": ["b"], "n": ["c"]}, ("triplets", MNRL, "TripletEvaluator", ("a", "p", "n"), None)),
    "two-negatives": (
        {"a": ["a"], "p": ["b"], "n1": ["c"], "n2": ["d"]},
        ("triplets", MNRL, "TripletEvaluator", ("a", "p", "n1", "n2"), None),
    ),
    "id-column-ignored": ({"id": ["1", "2"], "q": ["a", "b"], "p": ["c", "d"]}, ("pairs", MNRL, IR, ("q", "p"), None)),
    "constant-label": (
        {"s1": ["a", "b"], "s2": ["c", "d"], "label": [1.0, 1.0]},
        ("pairs", MNRL, IR, ("s1", "s2"), None),
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_role_inference_on_each_shape(shape):
    columns, expected = SHAPES[shape]
    roles = infer_roles(datasets.Dataset.from_dict(columns))
    assert (roles.task, roles.loss, roles.evaluator, roles.text_columns, roles.label_column) == expected
    assert roles.explanation.endswith(".") and len(roles.explanation) > 40


def test_scores_outside_unit_range_are_reported_and_normalised():
    data = datasets.Dataset.from_dict({"s1": ["a", "b", "c"], "s2": ["d", "e", "f"], "score": [0.0, 2.5, 4.8]})
    roles = infer_roles(data)
    assert roles.needs_label_normalization and roles.label_scale == (0.0, 5.0)
    assert "0-5 scale" in roles.explanation
    assert normalize_labels(data, roles)["score"] == pytest.approx([0.0, 0.5, 0.96])
    unit = infer_roles(data.map(lambda r: {"score": r["score"] / 5}))
    assert not unit.needs_label_normalization


@pytest.mark.parametrize(
    "columns, message",
    [
        ({"text": ["a"], "label": [1]}, "at least two text columns.*found 1: text.*columns found: text, label"),
        ({"s1": ["a"], "s2": ["b"], "similarity": [0.5], "votes": [3]}, "'similarity', 'votes' hold numbers.*Rename"),
        ({"s1": ["a"], "s2": ["b"], "label": ["entailment"]}, "holds 'entailment' rather than numbers"),
        ({"a": ["a"], "b": ["b"], "c": ["c"], "label": [0.5]}, "3 text columns .* and a label"),
    ],
)
def test_unusable_columns_raise_listing_what_was_found(columns, message):
    with pytest.raises(SentforgeError, match=message):
        infer_roles(datasets.Dataset.from_dict(columns))


def test_explicit_column_mapping():
    data = datasets.Dataset.from_dict(
        {"id": [1, 2], "answer": ["a", "b"], "question": ["q", "r"], "rating": [0.4, 0.9]}
    )
    mapped = apply_column_mapping(data, "question, answer", label_column="rating")
    assert mapped.column_names == ["question", "answer", "label"]
    assert infer_roles(mapped).task == "scored-pairs"
    expected = "Column\\(s\\) body not found. Columns found: id, answer, question, rating"
    with pytest.raises(SentforgeError, match=expected):
        apply_column_mapping(data, ["question", "body"])


# --- shared benchmark sets ---------------------------------------------------------------------


def test_stsb_row_counts_and_scores(shared_data):
    counts = {split: len(load_stsb(split, root=shared_data)) for split in ("train", "dev", "test")}
    assert counts == {"train": 5749, "dev": 1500, "test": 1379}
    test = load_stsb("test", root=shared_data)
    raw = load_stsb("test", root=shared_data, normalize=False)
    # first test pair, as in the Hub's sentence-transformers/stsb (score 2.5 of 5 -> 0.5)
    first = {"sentence1": "A girl is styling her hair.", "sentence2": "A girl is brushing her hair.", "score": 0.5}
    assert test[0] == first
    assert min(test["score"]) == 0.0 and max(test["score"]) == 1.0
    assert raw["score"] == pytest.approx([5 * s for s in test["score"]])


def test_stsb_takes_fields_4_5_6_when_a_line_has_extra_fields(tmp_path):
    (tmp_path / "stsb").mkdir()
    write(tmp_path / "stsb" / "sts-dev.csv", "g\tf\ty\t1\t4.0\tA cat.\tA kitten.\textra\tmore\ng\tf\ty\t2\t1.0\tX\tY\n")
    data = load_stsb("dev", root=tmp_path)
    assert data.to_dict() == {"sentence1": ["A cat.", "X"], "sentence2": ["A kitten.", "Y"], "score": [0.8, 0.2]}


def test_scifact(shared_data):
    test = load_scifact("test", root=shared_data)
    assert (len(test.queries), len(test.corpus), sum(map(len, test.relevant_docs.values()))) == (300, 5183, 339)
    train_queries, _, train_relevant = load_scifact("train", root=shared_data)
    assert (len(train_queries), sum(map(len, train_relevant.values()))) == (809, 919)
    with open(f"{shared_data}/scifact/corpus.jsonl", encoding="utf-8") as handle:
        doc = json.loads(handle.readline())
    assert test.corpus[doc["_id"]] == (doc["title"] + " " + doc["text"]).strip()
    pairs = load_scifact_pairs("train", root=shared_data)
    assert len(pairs) == 919 and pairs.column_names == ["query", "abstract"]
    assert set(pairs["abstract"]) <= set(test.corpus.values())


def test_mrpc(shared_data):
    counts = {split: len(load_mrpc(split, root=shared_data)) for split in ("train", "validation", "test")}
    assert counts == {"train": 3576, "validation": 500, "test": 1725}
    train = load_mrpc("train", root=shared_data)
    assert train.column_names == ["sentence1", "sentence2", "label"]
    assert set(train["label"]) == {0, 1}
    assert train[0]["sentence1"].startswith("Amrozi accused his brother")
    assert infer_roles(train).task == "binary-pairs"


def test_nli_triplets(shared_data):
    data = load_nli_triplets(root=shared_data)
    assert len(data) == 18330 and data.column_names == ["anchor", "positive", "negative"]
    assert infer_roles(data).task == "triplets"
    assert "source" in load_nli_triplets(root=shared_data, keep_metadata=True).column_names


def test_shared_root_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTFORGE_SHARED_DATA", str(tmp_path / "absent"))
    with pytest.raises(SentforgeError, match="SENTFORGE_SHARED_DATA does not exist"):
        shared_data_root()
    monkeypatch.setenv("SENTFORGE_SHARED_DATA", str(tmp_path))
    assert shared_data_root() == tmp_path
    with pytest.raises(SentforgeError, match="Missing data file .*mrpc/msr-para-train.tsv"):
        load_mrpc("train")
    with pytest.raises(SentforgeError, match="no split 'dev2'"):
        load_stsb("dev2")


def test_shared_set_from_a_hub_id(monkeypatch):
    hub = datasets.Dataset.from_dict({"sentence1": ["a"], "sentence2": ["b"], "score": [0.4]})
    seen = []

    def fake_load(name, config=None, split=None):
        seen.append((name, split))
        return hub

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    assert load_stsb("dev", root="sentence-transformers/stsb", normalize=False)["score"] == [pytest.approx(2.0)]
    assert seen == [("sentence-transformers/stsb", "validation")]


def test_json_labels_written_as_text_are_numbers(tmp_path):
    rows = [{"s1": f"a {i}", "s2": f"b {i}", "label": str(i % 2)} for i in range(6)]
    rows[3]["label"] = "n/a"
    path = write(tmp_path / "pairs.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    data = load_data(str(path))
    assert data.features["label"].dtype == "float64" and data["label"] == [0.0, 1.0, 0.0, None, 0.0, 1.0]
    scores = write(tmp_path / "scores.jsonl", '{"s1": "a", "s2": "b", "score": "4.5"}\n{"s1": "c", "s2": "d", "score": "1"}\n')
    assert load_data(str(scores))["score"] == [4.5, 1.0]


def test_semicolon_separated_csv_with_decimal_commas(tmp_path):
    path = write(tmp_path / "scores.csv", 'sentence1;sentence2;score\n"A man, walking.";"A man walks.";4,5\nx;y;2\n')
    data = load_data(str(path))
    assert data.column_names == ["sentence1", "sentence2", "score"]
    assert data["sentence1"] == ["A man, walking.", "x"] and data["score"] == [4.5, 2.0]


def test_a_trailing_comma_on_every_line_is_not_a_column(tmp_path):
    path = write(tmp_path / "pairs.csv", "s1,s2,score,\na,b,1.0,\nc,d,0.5,\n")
    data = load_data(str(path))
    assert data.column_names == ["s1", "s2", "score"] and data["score"] == [1.0, 0.5]
    ragged = write(tmp_path / "ragged.csv", "s1,s2,score,\na,b,1.0,extra\n")
    with pytest.raises(SentforgeError, match="line 2 has 4 fields"):
        load_data(str(ragged))
