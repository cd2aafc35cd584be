"""Parity with the sentence-transformers library on the real all-MiniLM-L6-v2 (the reference).

Tolerances: embeddings within 1e-5 max abs difference (float32 arithmetic, same kernels);
STS-B test spearman 0.8203 +- 0.0005 (the published MTEB figure).
"""

from __future__ import annotations


import numpy as np
import pytest
from scipy.stats import spearmanr

from sentforge import SentenceTransformer

pytestmark = pytest.mark.integration
st = pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="module")
def stsb_test(shared_data):
    from sentforge.data.shared_sets import load_stsb

    return load_stsb("test", root=shared_data)


@pytest.fixture(scope="module")
def ours(minilm_path):
    return SentenceTransformer("all-MiniLM-L6-v2", device="cpu")


@pytest.fixture(scope="module")
def reference(minilm_path):
    return st.SentenceTransformer(minilm_path, device="cpu")


def test_seed_usage_snippet_gives_published_similarity(ours):
    sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    embeddings = ours.encode(sentences)
    assert embeddings.shape == (3, 384)
    similarities = ours.similarity(embeddings, embeddings)
    assert similarities.shape == (3, 3)
    assert round(float(similarities[0, 1]), 4) == 0.6660


def test_embeddings_match_reference_on_all_stsb_test_sentences(ours, reference, stsb_test):
    sentences = list(dict.fromkeys(list(stsb_test["sentence1"]) + list(stsb_test["sentence2"])))
    for normalize in (False, True):
        a = ours.encode(sentences, batch_size=64, normalize_embeddings=normalize)
        b = reference.encode(sentences, batch_size=64, normalize_embeddings=normalize)
        assert a.shape == b.shape == (len(sentences), 384)
        assert np.abs(a - b).max() < 1e-5


def test_zero_shot_stsb_spearman_is_published_figure(ours, stsb_test):
    a = ours.encode(list(stsb_test["sentence1"]), batch_size=64, convert_to_tensor=True)
    b = ours.encode(list(stsb_test["sentence2"]), batch_size=64, convert_to_tensor=True)
    cosine = ours.similarity_pairwise(a, b).numpy()
    rho = spearmanr(cosine, list(stsb_test["score"])).statistic
    assert abs(rho - 0.8203) <= 0.0005


def test_saved_by_sentforge_loads_in_sentence_transformers(ours, tmp_path):
    sentences = ["A man is playing a guitar.", "The new movie is awesome", "ok"]
    ours.save(str(tmp_path / "sf"))
    loaded = st.SentenceTransformer(str(tmp_path / "sf"), device="cpu")
    assert loaded.max_seq_length == ours.max_seq_length
    assert np.abs(loaded.encode(sentences) - ours.encode(sentences)).max() < 1e-5


def test_saved_by_sentence_transformers_loads_in_sentforge(reference, tmp_path):
    sentences = ["A man is playing a guitar.", "The new movie is awesome", "ok"]
    reference.save(str(tmp_path / "st"))
    loaded = SentenceTransformer(str(tmp_path / "st"), device="cpu")
    assert loaded.max_seq_length == reference.max_seq_length
    assert np.abs(loaded.encode(sentences) - reference.encode(sentences)).max() < 1e-5


def test_dense_model_roundtrips_with_sentence_transformers(minilm_path, tmp_path):
    from sentforge import models

    model = SentenceTransformer(
        modules=[models.Transformer(minilm_path, max_seq_length=64), models.Pooling(384, "cls"), models.Dense(384, 32)],
        device="cpu",
    )
    model.save(str(tmp_path / "dense"))
    loaded = st.SentenceTransformer(str(tmp_path / "dense"), device="cpu")
    sentences = ["one sentence here", "and another, longer, sentence right here"]
    assert np.abs(loaded.encode(sentences) - model.encode(sentences)).max() < 1e-5
    back = str(tmp_path / "back")
    loaded.save(back)
    assert np.abs(SentenceTransformer(back, device="cpu").encode(sentences) - model.encode(sentences)).max() < 1e-5
