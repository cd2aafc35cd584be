"""encode, similarity, info and eval on a tiny random model, checked against the library and the reference."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from test_cli import restore_library_state  # noqa: F401  (autouse fixture)
from test_cli import assert_user_error, flat, invoke, write_csv

from sentforge import SentenceTransformer

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "the river bank had money", "gold and coal in the rock"]


@pytest.fixture(scope="module")
def tiny(tiny_bert_dir) -> SentenceTransformer:
    return SentenceTransformer(tiny_bert_dir, device="cpu")


def test_encode_txt_matches_the_library(tmp_path, tiny_bert_dir, tiny) -> None:
    source = tmp_path / "texts.txt"
    source.write_text("\n".join(TEXTS[:2]) + "\n\n" + "\n".join(TEXTS[2:]) + "\n", encoding="utf-8")
    target = tmp_path / "emb.npy"
    result = invoke("encode", tiny_bert_dir, source, "--output", target)
    assert result.exit_code == 0, result.output
    assert "Skipped 1 blank line" in result.output and "shape (4, 32)" in result.output
    np.testing.assert_allclose(np.load(target), tiny.encode(TEXTS), atol=1e-5)


def test_encode_table_column_normalized_and_quantized(tmp_path, tiny_bert_dir) -> None:
    source = write_csv(tmp_path / "rows.csv", ["id", "sentence"], [(i, t) for i, t in enumerate(TEXTS)])
    normalized = tmp_path / "unit.npy"
    assert invoke("encode", tiny_bert_dir, source, "-o", normalized, "--normalize").exit_code == 0
    np.testing.assert_allclose(np.linalg.norm(np.load(normalized), axis=1), 1.0, atol=1e-5)
    packed = tmp_path / "bits.npy"
    result = invoke("encode", tiny_bert_dir, source, "--column", "sentence", "-o", packed, "--precision", "ubinary")
    assert result.exit_code == 0, result.output
    assert np.load(packed).dtype == np.uint8 and np.load(packed).shape == (4, 4)  # 32 bits -> 4 bytes


def test_encode_user_errors(tmp_path, tiny_bert_dir) -> None:
    two_texts = write_csv(tmp_path / "pairs.csv", ["question", "answer"], [("a", "b")])
    assert_user_error(invoke("encode", tiny_bert_dir, two_texts), "--column")
    assert_user_error(invoke("encode", tiny_bert_dir, two_texts, "--column", "nope"), "No column 'nope'")
    assert_user_error(invoke("encode", tiny_bert_dir, tmp_path / "none.txt"), "not found")
    assert_user_error(invoke("encode", tiny_bert_dir, two_texts, "--precision", "int3"), "int3")


def test_similarity_pair_and_matrix(tiny_bert_dir, tiny) -> None:
    embeddings = tiny.encode(TEXTS[:3], normalize_embeddings=True)
    expected = embeddings @ embeddings.T
    pair = invoke("similarity", tiny_bert_dir, TEXTS[0], TEXTS[1])
    assert pair.exit_code == 0, pair.output
    assert f"cosine similarity: {expected[0, 1]:.4f}" in pair.output
    matrix = invoke("similarity", tiny_bert_dir, *TEXTS[:2], "a [bold] text")
    assert matrix.exit_code == 0, matrix.output
    assert "a [bold] text" in matrix.output  # texts are shown as written, never as markup
    assert f"{expected[0, 1]:.4f}" in matrix.output
    assert_user_error(invoke("similarity", tiny_bert_dir, "only one"), "at least two texts")


def test_info_on_a_base_model(tiny_bert_dir) -> None:
    result = invoke("info", tiny_bert_dir)
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    for words in ("Max sequence length: 64 tokens", "Embedding dimension: 32", "Similarity function: cosine",
                  "Prompts: none", "Model card: none", "pooling_mode_mean_tokens': True"):
        assert words in log, words


def test_eval_scored_pairs_matches_the_reference(tmp_path, tiny_bert_dir) -> None:
    st = pytest.importorskip("sentence_transformers")
    rows = [(TEXTS[i % 4], TEXTS[(i * 3 + 1) % 4] + f" {i}", (i % 6) / 5) for i in range(24)]
    data = write_csv(tmp_path / "sts.csv", ["sentence1", "sentence2", "score"], rows)
    result = invoke("eval", tiny_bert_dir, data)
    assert result.exit_code == 0, result.output
    reference = st.SentenceTransformer(tiny_bert_dir, device="cpu")
    a = reference.encode([r[0] for r in rows], normalize_embeddings=True)
    b = reference.encode([r[1] for r in rows], normalize_embeddings=True)
    expected = spearmanr([r[2] for r in rows], (a * b).sum(axis=1)).statistic
    assert f"sts_spearman_cosine (primary) {expected:.4f}" in flat(result.output)


def test_eval_explains_nan(tmp_path, tiny_bert_dir) -> None:
    """Identical texts in every pair: the model's scores are constant, so Spearman is undefined."""
    rows = [(TEXTS[0], TEXTS[0], score) for score in (0.1, 0.5, 0.9, 0.3)]
    data = write_csv(tmp_path / "same.csv", ["sentence1", "sentence2", "score"], rows)
    result = invoke("eval", tiny_bert_dir, data)
    assert result.exit_code == 0, result.output
    log = flat(result.output)
    assert "same_spearman_cosine (primary) n/a" in log
    assert "same_spearman_cosine is n/a:" in log
    assert " nan " not in f" {log.lower()} "


def test_eval_binary_and_triplets(tmp_path, tiny_bert_dir) -> None:
    binary = write_csv(tmp_path / "bin.csv", ["a", "b", "label"], [(TEXTS[i % 4], TEXTS[(i + 1) % 4], i % 2) for i in range(8)])
    result = invoke("eval", tiny_bert_dir, binary)
    assert result.exit_code == 0, result.output
    assert "BinaryClassificationEvaluator" in result.output and "bin_cosine_ap (primary)" in result.output
    triplets = write_csv(tmp_path / "tri.csv", ["anchor", "positive", "negative"], [tuple(TEXTS[:3]), tuple(TEXTS[1:])])
    result = invoke("eval", tiny_bert_dir, triplets)
    assert result.exit_code == 0, result.output
    assert "TripletEvaluator" in result.output and "tri_cosine_accuracy (primary)" in result.output
