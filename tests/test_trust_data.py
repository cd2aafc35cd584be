"""The data contract gives no silent wrong answers: metadata columns, label scales, a leak-free
hold-out, infinite labels and row numbers that point into the file."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest

from sentforge.pipeline.prepare import prepare, rescale_scores
from sentforge.data import diagnose, infer_roles
from sentforge.data.holdout import group_holdout, row_groups
from sentforge.data.label_scale import infer_label_scale
from sentforge.data.metadata_columns import metadata_reason


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def _triplets_with_metadata(n: int = 60) -> list[dict]:
    return [
        {
            "anchor": f"a person does thing number {i}",
            "positive": f"someone is doing activity {i}",
            "negative": f"nobody does anything at all {i}",
            "source": ["snli", "sick", "xnli_en"][i % 3],
            "split": ["dev", "test"][i % 2],
            "direction": ["premise->hyp", "hyp->premise"][i % 2],
        }
        for i in range(n)
    ]


# -- extra columns -------------------------------------------------------------------------------


def test_metadata_columns_are_not_texts(tmp_path):
    path = _write_jsonl(tmp_path / "triplets.jsonl", _triplets_with_metadata())
    data = prepare(path, None)
    assert data.train.column_names == ["anchor", "positive", "negative"]
    ignored = dict(data.roles.ignored_reasons)
    assert set(ignored) == {"source", "split", "direction"}
    assert all("metadata" in why for why in ignored.values())
    report = diagnose(data.train, data.eval, roles=data.roles)
    finding = next(f for f in report.findings if f.code == "ignored-columns")
    assert "source" in finding.message and "anchor, positive, negative" in finding.message


def test_columns_option_picks_exactly(tmp_path):
    path = _write_jsonl(tmp_path / "triplets.jsonl", _triplets_with_metadata())
    data = prepare(path, None, columns=["anchor", "source"])
    assert data.train.column_names == ["anchor", "source"]
    assert "not named in --columns" in dict(data.roles.ignored_reasons)["negative"]


@pytest.mark.parametrize("order", [["score", "s1", "s2"], ["s1", "score", "s2"], ["s1", "s2", "score"]])
def test_columns_option_takes_the_label_wherever_it_is_named(tmp_path, order):
    rows = [{"score": (i % 5) / 5, "s1": f"first {i}", "s2": f"second {i}"} for i in range(40)]
    path = _write_jsonl(tmp_path / "scores.jsonl", rows)
    data = prepare(path, path, columns=order)
    assert data.train.column_names == ["s1", "s2", "label"] and data.roles.task == "scored-pairs"
    assert data.train["label"][:3] == pytest.approx([0.0, 0.2, 0.4])


def test_pair_file_with_few_distinct_second_texts_keeps_them():
    # Job descriptions paired with a handful of short titles: two texts are needed, so both stay.
    rows = {"description": [f"we need someone to build things, item {i}" for i in range(100)],
            "title": [["engineer", "designer", "manager"][i % 3] for i in range(100)]}
    roles = infer_roles(datasets.Dataset.from_dict(rows))
    assert roles.text_columns == ("description", "title")


def test_a_tag_column_beside_two_texts_is_not_a_hard_negative():
    topics = [f"{area} {kind}" for area in ("finance", "sports", "health", "travel", "food", "music")
              for kind in ("news", "advice", "opinion", "review", "guide")]  # 30 topics: more than a few
    rows = {"question": [f"question number {i} about things" for i in range(300)],
            "answer": [f"an answer that explains item {i}" for i in range(300)],
            "topic": [topics[i % 30] for i in range(300)]}
    roles = infer_roles(datasets.Dataset.from_dict(rows))
    assert roles.text_columns == ("question", "answer") and roles.task == "pairs"
    assert "not a hard negative" in dict(roles.ignored_reasons)["topic"]


def test_short_repeated_negatives_from_the_positives_stay_texts():
    titles = [f"title {name}" for name in ("engineer", "designer", "manager", "analyst", "nurse", "teacher")]
    rows = {"resume": [f"resume text of person {i}" for i in range(120)],
            "title": [titles[i % 6] for i in range(120)],
            "negative_title": [titles[(i + 1) % 6] for i in range(120)]}
    roles = infer_roles(datasets.Dataset.from_dict(rows))
    assert roles.text_columns == ("resume", "title", "negative_title") and roles.task == "triplets"


@pytest.mark.parametrize("values, metadata", [
    (["snli", "sick"] * 20, True),
    ([f"doc-{i}" for i in range(40)], True),
    ([f"A sentence about topic {i}." for i in range(40)], False),
    (["snli", "sick"] * 5, False),  # too few rows to tell
    ([f"2024-01-{1 + i % 28:02d} {i % 24:02d}:00:00" for i in range(40)], True),  # timestamps
    ([f"{1 + i % 12}/{1 + i % 28}/2023" for i in range(40)], True),  # dates
    ([f"topic {i % 40}" for i in range(300)], True),  # 40 numbered tags
    ([f"What is {i} plus {i + 1}?" for i in range(40)], False),  # numbers in real sentences
    ([f"{i} apples" if i % 2 else f"Give me {i} pears, please" for i in range(40)], False),
])
def test_metadata_reason(values, metadata):
    assert (metadata_reason("column", values) is not None) is metadata


def test_a_label_under_another_name_is_said(tmp_path):
    rows = [{"text_a": f"first {i}", "text_b": f"second {i}", "similarity": (i % 5) / 4} for i in range(40)]
    data = prepare(_write_jsonl(tmp_path / "pairs.jsonl", rows), None)
    assert data.roles.task == "scored-pairs"
    assert [note for note in data.notes if note.startswith("Label: column 'similarity'")]


def test_single_unnamed_numeric_column_is_the_label():
    rows = {"Quality": [0, 1] * 15, "#1 ID": list(range(30)), "#1 String": [f"first {i}" for i in range(30)],
            "#2 String": [f"second {i}" for i in range(30)]}
    roles = infer_roles(datasets.Dataset.from_dict(rows))
    assert roles.label_column == "Quality" and roles.task == "binary-pairs"
    assert roles.text_columns == ("#1 String", "#2 String")


# -- label scales --------------------------------------------------------------------------------


def _scored(labels: list[float]) -> datasets.Dataset:
    n = len(labels)
    return datasets.Dataset.from_dict(
        {"s1": [f"left {i}" for i in range(n)], "s2": [f"right {i}" for i in range(n)], "score": labels}
    )


def test_one_outlier_is_reported_not_a_new_scale():
    labels = [round(0.1 + 0.8 * (i % 10) / 9, 3) for i in range(60)]
    labels[17] = 7.0
    roles = infer_roles(_scored(labels))
    assert (roles.scale.low, roles.scale.high) == (0.0, 1.0)
    assert roles.label_scale is None, "the 60 good labels must not be squashed onto 0-7"
    report = diagnose(_scored(labels), roles=roles, label_range=(0.0, 1.0))
    outliers = [f for f in report.errors if f.code == "label-outliers"]
    assert len(outliers) == 1 and "rows 18" in outliers[0].message


@pytest.mark.parametrize("labels, scale, mapped", [
    ([0, 12, 40, 77, 99] * 4, (0.0, 100.0), [0.0, 0.12, 0.4, 0.77, 0.99]),
    ([1.0, 2.2, 3.4, 4.6, 5.0] * 4, (1.0, 5.0), [0.0, 0.3, 0.6, 0.9, 1.0]),
    ([0.0, 1.5, 2.5, 4.0, 5.0] * 4, (0.0, 5.0), [0.0, 0.3, 0.5, 0.8, 1.0]),
    ([0, 3, 6, 8, 10] * 4, (0.0, 10.0), [0.0, 0.3, 0.6, 0.8, 1.0]),
])
def test_known_scales_are_inferred_and_mapped(tmp_path, labels, scale, mapped):
    path = tmp_path / "scores.jsonl"
    _write_jsonl(path, [{"s1": f"a {i}", "s2": f"b {i}", "score": v} for i, v in enumerate(labels)])
    data = prepare(str(path), str(path))
    assert (data.roles.scale.low, data.roles.scale.high) == scale
    note = rescale_scores(data, any_scale=True)
    assert data.train["label"][:5] == pytest.approx(mapped)
    low, high = scale
    assert f"{low:g}-{high:g} scale" in note
    described = [line for line in [data.roles.explanation, *data.notes] if "from" in line and "to" in line]
    assert not described, "the mapping is said once, in the rescale note"


@pytest.mark.parametrize("spread, outlier, scale", [
    ((0.05, 0.95), 1.2, (0.0, 1.0)),  # a 1.2 would put every other score in 0-0.2 of a 0-5 scale
    ((0.0, 5.0), 6.0, (0.0, 5.0)),  # a 6 among 0-5 scores would halve them on 0-10
    ((0.5, 9.5), 15.0, (0.0, 10.0)),
])
def test_a_label_just_outside_a_filled_scale_is_an_outlier(spread, outlier, scale):
    low, high = spread
    labels = [round(low + (high - low) * (i % 10) / 9, 3) for i in range(120)]
    labels[41] = outlier
    roles = infer_roles(_scored(labels))
    assert (roles.scale.low, roles.scale.high) == scale and roles.scale.outlier_rows == (41,)
    report = diagnose(_scored(labels), roles=roles)
    outliers = [f for f in report.errors if f.code == "label-outliers"]
    assert len(outliers) == 1 and "rows 42." in outliers[0].message


def test_a_wider_scale_the_labels_use_is_not_an_outlier():
    # SICK-like 1-5 scores and one 0: the 0-5 scale holds them all and they fill most of it.
    labels = [1.0 + 4.0 * (i % 10) / 9 for i in range(120)]
    labels[3] = 0.0
    scale = infer_roles(_scored(labels)).scale
    assert (scale.low, scale.high, scale.outlier_rows) == (0.0, 5.0, ())


def test_evaluation_labels_off_the_training_scale_are_an_error(tmp_path):
    train = _write_jsonl(tmp_path / "train.jsonl", [{"s1": f"a {i}", "s2": f"b {i}", "score": (i % 10) / 9}
                                                    for i in range(60)])
    eval_rows = [{"s1": f"c {i}", "s2": f"d {i}", "score": (i % 10) / 9} for i in range(30)]
    eval_rows[12]["score"] = 7.0
    data = prepare(train, _write_jsonl(tmp_path / "eval.jsonl", eval_rows))
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows, eval_rows=data.eval_rows)
    found = [f for f in report.errors if f.code == "label-outliers" and f.dataset == "eval"]
    assert len(found) == 1 and "rows 13 (e.g. 7)" in found[0].message and "0-1 scale" in found[0].message


@pytest.mark.parametrize("word", ["n/a", "NA", "N/A", "null", "None", "-", ""])
def test_missing_value_words_in_a_score_column_are_missing_labels_named_by_row(tmp_path, word):
    path = tmp_path / "scores.csv"
    lines = ["s1,s2,score"] + [f"first {i},second {i},{(i % 10) / 10}" for i in range(40)]
    lines[10] = f"first 9,second 9,{word}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = prepare(str(path), str(path))
    assert data.roles.task == "scored-pairs"
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows)
    missing = [f for f in report.errors if f.code == "nan-label" and f.dataset == "train"]
    assert len(missing) == 1 and "rows 10." in missing[0].message


def test_missing_value_words_among_json_numbers_are_missing_labels(tmp_path):
    rows = [{"s1": f"first {i}", "s2": f"second {i}", "score": (i % 10) / 10} for i in range(40)]
    rows[6]["score"] = "n/a"
    data = prepare(_write_jsonl(tmp_path / "scores.jsonl", rows), None)
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows, eval_rows=data.eval_rows)
    assert [f.message for f in report.errors if f.code == "nan-label"] == [
        "1 train row(s) have a missing or NaN 'label': rows 7."] or \
        [f.message for f in report.errors if f.code == "nan-label"] == [
        "1 eval row(s) have a missing or NaN 'label': rows 7."]


def test_infer_label_scale_ignores_infinite_values():
    scale = infer_label_scale(np.array([0.0, 2.0, np.inf, 4.0, -np.inf, 5.0]))
    assert (scale.low, scale.high) == (0.0, 5.0)


# -- infinite labels and row numbers ------------------------------------------------------------


def test_infinite_labels_are_one_finding_naming_the_rows(tmp_path):
    path = tmp_path / "scores.csv"
    lines = ["s1,s2,score"] + [f"first {i},second {i},{(i % 5) / 5}" for i in range(30)]
    lines[4] = "first 3,second 3,inf"
    lines[9] = "first 8,second 8,-inf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = prepare(str(path), str(path))
    report = diagnose(data.train, data.eval, roles=data.roles, label_range=(0.0, 1.0),
                      train_rows=data.train_rows, eval_rows=data.eval_rows)
    infinite = [f for f in report.errors if f.code == "infinite-label" and f.dataset == "train"]
    assert len(infinite) == 1 and "rows 4, 9." in infinite[0].message
    assert not any(f.code == "label-out-of-range" for f in report.errors)


def test_findings_name_file_rows_after_a_hold_out(tmp_path):
    rows = [{"q": f"question number {i}", "a": f"answer number {i}"} for i in range(200)]
    rows[150]["a"] = ""
    path = _write_jsonl(tmp_path / "pairs.jsonl", rows)
    data = prepare(path, None, seed=3)
    report = diagnose(data.train, data.eval, roles=data.roles, train_rows=data.train_rows, eval_rows=data.eval_rows)
    empty = [f for f in report.errors if f.code == "empty-text"]
    assert len(empty) == 1 and "rows 151." in empty[0].message


# -- the hold-out ---------------------------------------------------------------------------------


def _texts_of(data: datasets.Dataset) -> set[str]:
    return {t for c in data.column_names if c != "label" for t in data[c] if t}


def test_hold_out_puts_no_text_on_both_sides(tmp_path):
    # Each query has three positives and passages are shared between queries, as in SciFact.
    rng = np.random.default_rng(0)
    rows = []
    for q in range(300):
        for _ in range(3):
            rows.append({"query": f"query {q}", "passage": f"passage {int(rng.integers(0, 500))}"})
    path = _write_jsonl(tmp_path / "pairs.jsonl", rows)
    data = prepare(path, None)
    assert data.held_out >= 50
    assert not _texts_of(data.train) & _texts_of(data.eval)
    assert len(data.train) + len(data.eval) <= len(rows)


def test_hold_out_folds_case_and_spaces_before_grouping(tmp_path):
    # The same query written three ways ("Query 7", "query 7 ", "query  7"): one text to the model.
    rows = []
    for q in range(200):
        for variant in (f"Query {q}", f"query {q} ", f"query  {q}"):
            rows.append({"query": variant, "passage": f"passage {q} {variant.count(' ')} {variant[0]}"})
    data = prepare(_write_jsonl(tmp_path / "pairs.jsonl", rows), None)
    assert data.held_out >= 20

    def keys(dataset):
        return {" ".join(t.split()).casefold() for t in dataset["query"]}

    assert not keys(data.train) & keys(data.eval)
    report = diagnose(data.train, data.eval, roles=data.roles)
    assert not [f for f in report.findings if f.code == "eval-leakage"]


def test_leakage_counts_texts_that_differ_only_in_case_or_spaces():
    train = datasets.Dataset.from_dict({"a": [f"Sentence {i}" for i in range(30)], "b": [f"other {i}" for i in range(30)]})
    eval_data = datasets.Dataset.from_dict({"a": [f"sentence {i} " for i in range(10)], "b": [f"new {i}" for i in range(10)]})
    leaks = [f for f in diagnose(train, eval_data).findings if f.code == "eval-leakage"]
    assert len(leaks) == 1 and "(10 of 20)" in leaks[0].message


def test_hold_out_of_scored_pairs_with_hub_sentences():
    # SICK-like: a few sentences appear in most pairs, so groups are huge and the text split is used.
    hubs = [f"hub sentence {i}" for i in range(5)]
    first = [hubs[i % 5] if i % 2 else f"sentence {i}" for i in range(400)]
    second = [f"other {i % 150}" for i in range(400)]
    split = group_holdout([first, second], 40, seed=1)
    eval_texts = {t for r in split.eval for t in (first[r], second[r])}
    train_texts = {t for r in split.train for t in (first[r], second[r])}
    assert not eval_texts & train_texts
    assert 20 <= len(split.eval) <= 80
    assert len(split.train) + len(split.eval) + len(split.dropped) == 400


def test_row_groups_join_rows_that_share_any_text():
    groups = row_groups([["a", "b", "c", "d"], ["x", "x", "y", "a"]])
    assert groups[0] == groups[1] == groups[3] and groups[2] != groups[0]
