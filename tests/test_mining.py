"""Hard negatives mined from the training positives: positive-aware, never the query's own positive, counted."""

from __future__ import annotations

import datasets
import numpy as np

from sentforge.pipeline.mining import mine_negatives

DOCS = ["doc zero", "doc one", "doc two", "doc three"]
# Each query's raw similarity to each document (the document vectors are orthonormal, so the cosine is
# this row scaled by one positive number: the 95% rule compares the same ratios).
SIMILARITY = {
    "query zero": [1.0, 0.97, 0.5, 0.2],   # positive doc zero; doc one is within 95% of it: a likely false negative
    "query one": [0.3, 0.9, 0.8, 0.1],     # positives doc one and doc two (weakest 0.8): doc zero is the negative
    "query two": [0.99, 0.98, 0.97, 0.9],  # positive doc three; every other doc scores above it: none is kept
    **{f"hub query {i}": [0.5, 0.4, 0.3, 1.0] for i in range(7)},  # all rank doc zero first
}


class FakeModel:
    """Encodes the texts above to fixed vectors, so the ranking is known."""

    similarity_fn_name = "cosine"

    def encode(self, texts, normalize_embeddings=False, **_):
        vectors = []
        for text in texts:
            vector = np.asarray(SIMILARITY[text] if text in SIMILARITY else np.eye(len(DOCS))[DOCS.index(text)], float)
            vectors.append(vector / np.linalg.norm(vector) if normalize_embeddings else vector)
        return np.stack(vectors).astype(np.float32)


def pairs() -> datasets.Dataset:
    rows = [("query zero", "doc zero"), ("query one", "doc one"), ("query one", "doc two"), ("query two", "doc three")]
    return datasets.Dataset.from_dict({"question": [q for q, _ in rows], "answer": [a for _, a in rows]})


def test_negatives_skip_likely_false_negatives_and_own_positives() -> None:
    result = mine_negatives(FakeModel(), pairs())
    mined = result.dataset
    assert mined.column_names == ["question", "answer", "negative"]
    assert mined["question"] == pairs()["question"] and mined["answer"] == pairs()["answer"]  # rows keep their order
    negatives = mined["negative"]
    assert negatives[0] == "doc two"  # doc one scores 0.97 of the positive: skipped as a likely positive
    assert negatives[1] == negatives[2] == "doc zero"  # never doc one or doc two, the query's own positives
    assert negatives[3] in ("doc zero", "doc one", "doc two")  # nothing passed the line: a random other positive


def test_counts_say_what_was_mined_and_dropped() -> None:
    result = mine_negatives(FakeModel(), pairs())
    assert (result.queries, result.corpus) == (3, 4)
    assert result.mined == 2 and result.random_fill == 1
    assert result.dropped == 1 + 0 + 3
    record = result.to_dict()
    assert record["dropped_false_negatives"] == 4 and record["positive_share"] == 0.95
    assert "mined 2 for 3 queries" in result.summary() and "dropped 4 candidates" in result.summary()


def test_several_negatives_per_row_get_numbered_columns() -> None:
    result = mine_negatives(FakeModel(), pairs(), negatives_per_row=2, positive_share=1.0)
    assert result.dataset.column_names == ["question", "answer", "negative_1", "negative_2"]
    first = result.dataset[0]
    assert (first["negative_1"], first["negative_2"]) == ("doc one", "doc two")  # best first


def test_one_text_is_the_negative_of_at_most_five_queries() -> None:
    queries = [f"hub query {i}" for i in range(7)]
    data = datasets.Dataset.from_dict({"question": queries + ["query zero", "query one", "query one"],
                                       "answer": ["doc three"] * 7 + ["doc zero", "doc one", "doc two"]})
    negatives = mine_negatives(FakeModel(), data).dataset["negative"]
    assert negatives[:7] == ["doc zero"] * 5 + ["doc one"] * 2


def test_one_distinct_positive_leaves_the_pairs_as_they_are() -> None:
    data = datasets.Dataset.from_dict({"question": ["query zero", "query one"], "answer": ["doc zero", "doc zero"]})
    result = mine_negatives(FakeModel(), data)
    assert result.dataset.column_names == ["question", "answer"] and result.mined == 0
