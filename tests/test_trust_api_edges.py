"""Edges of the Python API that used to give a wrong answer without a word: a truncate_dim lost on
save or load, int8 ranges from one embedding, similarity between vectors of different sizes."""

from __future__ import annotations

import numpy as np
import pytest

from sentforge import SentenceTransformer, SentforgeError


def test_truncate_dim_is_saved_and_loaded(tiny_bert_dir, tmp_path):
    model = SentenceTransformer(tiny_bert_dir, device="cpu", truncate_dim=8)
    model.save(str(tmp_path / "ours"))
    assert SentenceTransformer(str(tmp_path / "ours"), device="cpu").encode("gold").shape == (8,)
    assert SentenceTransformer(str(tmp_path / "ours"), device="cpu", truncate_dim=16).encode("gold").shape == (16,)


def test_truncate_dim_round_trips_with_sentence_transformers(tiny_bert_dir, tmp_path):
    st = pytest.importorskip("sentence_transformers")
    st.SentenceTransformer(tiny_bert_dir, device="cpu", truncate_dim=8).save(str(tmp_path / "theirs"))
    assert SentenceTransformer(str(tmp_path / "theirs"), device="cpu").encode("gold").shape == (8,)
    SentenceTransformer(tiny_bert_dir, device="cpu", truncate_dim=8).save(str(tmp_path / "ours"))
    assert st.SentenceTransformer(str(tmp_path / "ours"), device="cpu").encode("gold").shape == (8,)


def test_int8_from_one_embedding_is_an_error_not_zeros(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    with pytest.raises(SentforgeError, match="single embedding"):
        model.encode(["one text"], precision="int8")
    two = model.encode(["one text", "another text entirely"], precision="int8")
    assert two.dtype == np.int8 and np.abs(two.astype(int)).sum() > 0


def test_similarity_of_vectors_of_different_sizes_names_both(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    with pytest.raises(SentforgeError, match="embeddings of 32 and 8 values"):
        model.similarity(np.ones((2, 32), dtype=np.float32), np.ones((3, 8), dtype=np.float32))
