"""TEI-compatible routes: ``/embed`` (normalize, truncate, dimensions) and ``/similarity``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, app_for_model  # noqa: E402

TEXTS = ["the cat sat on the mat", "a dog ran in the park", "money in the bank"]


@pytest.fixture(scope="module")
def model(tiny_bert_dir):
    return SentenceTransformer(tiny_bert_dir, device="cpu")


@pytest.fixture(scope="module")
def http(tiny_bert_dir):
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny", ServeConfig(),
                        model_folder=tiny_bert_dir)
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


def test_embed_returns_one_normalised_vector_per_input(http, model):
    reply = http.post("/embed", json={"inputs": TEXTS})
    assert reply.status_code == 200
    got = np.array(reply.json(), dtype=np.float32)
    assert np.abs(got - model.encode(TEXTS, normalize_embeddings=True)).max() <= 1e-6


def test_embed_single_string_gives_a_list_of_one(http, model):
    got = http.post("/embed", json={"inputs": TEXTS[0]}).json()
    assert len(got) == 1 and np.abs(np.array(got[0]) - model.encode(TEXTS[0], normalize_embeddings=True)).max() <= 1e-6


def test_embed_without_normalisation_gives_raw_vectors(http, model):
    got = np.array(http.post("/embed", json={"inputs": TEXTS, "normalize": False}).json(), dtype=np.float32)
    assert np.abs(got - model.encode(TEXTS)).max() <= 1e-5


def test_embed_without_normalisation_skips_the_models_own_normalize_module(model):
    """TEI's ``normalize: false`` returns the pooled vectors even when the model ends with Normalize."""
    from sentforge.models import Normalize

    normalized = SentenceTransformer(modules=[*model, Normalize()], device="cpu")
    app = app_for_model(normalized, "tiny-normalized", ServeConfig())
    with BackgroundServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        raw = np.array(client.post("/embed", json={"inputs": TEXTS, "normalize": False}).json(), dtype=np.float32)
        unit = np.array(client.post("/embed", json={"inputs": TEXTS}).json(), dtype=np.float32)
        openai = client.post("/v1/embeddings", json={"input": TEXTS}).json()["data"]
    assert np.abs(raw - model.encode(TEXTS)).max() <= 1e-5
    assert np.linalg.norm(raw, axis=1).min() > 1.5  # the pooled vectors, not unit length
    expected = normalized.encode(TEXTS)
    assert np.abs(unit - expected).max() <= 1e-6
    assert np.abs(np.array([row["embedding"] for row in openai]) - expected).max() <= 1e-6
    assert isinstance(normalized[-1], Normalize) and len(normalized) == 3  # the served model is unchanged


def test_embed_dimensions(http, model):
    got = np.array(http.post("/embed", json={"inputs": TEXTS, "dimensions": 4}).json(), dtype=np.float32)
    assert np.abs(got - model.encode(TEXTS, truncate_dim=4, normalize_embeddings=True)).max() <= 1e-6


def test_embed_truncate_flag(http, model):
    long = " ".join(["river"] * 200)
    assert http.post("/embed", json={"inputs": [long], "truncate": False}).status_code == 413
    got = http.post("/embed", json={"inputs": [long], "truncate": True}).json()[0]
    assert np.abs(np.array(got) - model.encode(long, normalize_embeddings=True)).max() <= 1e-6
    assert http.post("/embed", json={"inputs": [long]}).status_code == 200  # the server's default: truncate


def test_similarity_is_cosine_of_source_with_each_sentence(http, model):
    reply = http.post("/similarity", json={"inputs": {"source_sentence": TEXTS[0], "sentences": TEXTS}})
    assert reply.status_code == 200
    vectors = model.encode(TEXTS, normalize_embeddings=True)
    np.testing.assert_allclose(reply.json(), vectors @ vectors[0], atol=1e-6)


def test_similarity_names_the_over_long_sentence(http):
    long = " ".join(["river"] * 200)
    reply = http.post("/similarity", json={"inputs": {"source_sentence": "a cat", "sentences": ["a dog", long]},
                                           "truncate": False})
    assert reply.status_code == 413
    assert "inputs.sentences[1]" in reply.json()["error"]["message"]


def test_huggingface_hub_inference_client_works_against_the_root_route(tiny_bert_dir, model, monkeypatch):
    """InferenceClient(base_url=server) posts TEI bodies to '/': embeddings, and similarity."""
    hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setattr(hub.constants, "HF_HUB_OFFLINE", False)  # the suite runs offline; this is loopback
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny", ServeConfig(),
                        model_folder=tiny_bert_dir)
    with BackgroundServer(app) as server:
        client = hub.InferenceClient(base_url=server.url)
        vectors = np.asarray(client.feature_extraction(TEXTS[0]), dtype=np.float32)
        scores = client.sentence_similarity(TEXTS[0], other_sentences=TEXTS[1:])
        info = httpx.get(f"{server.url}/info").json()
        openai_alias = httpx.post(f"{server.url}/embeddings", json={"input": TEXTS}).json()["data"]
    expected = model.encode(TEXTS, normalize_embeddings=True)
    assert vectors.shape == (1, 32) and np.abs(vectors[0] - expected[0]).max() <= 1e-6
    assert scores == pytest.approx((expected[1:] @ expected[0]).tolist(), abs=1e-5)
    assert info["max_input_length"] == model.max_seq_length and info["model_dtype"] == "float32"
    assert len(openai_alias) == 3


def test_truncation_direction_left_keeps_the_end_of_the_text(http, model):
    from tiny_models import WORDS

    words = [WORDS[i % len(WORDS)] for i in range(3 * model.max_seq_length)]
    text = " ".join(words)
    keep = model.max_seq_length - 2  # [CLS] and [SEP]
    assert len(model.tokenizer(text)["input_ids"]) > model.max_seq_length
    left = np.array(http.post("/embed", json={"inputs": text, "truncation_direction": "Left"}).json()[0])
    right = np.array(http.post("/embed", json={"inputs": text, "truncation_direction": "Right"}).json()[0])
    assert np.abs(left - model.encode(" ".join(words[-keep:]), normalize_embeddings=True)).max() <= 1e-6
    assert np.abs(right - model.encode(text, normalize_embeddings=True)).max() <= 1e-6
    assert np.abs(left - right).max() > 1e-3
    bad = http.post("/embed", json={"inputs": text, "truncation_direction": "Up"})
    assert bad.status_code == 400 and "'Left' or 'Right'" in bad.json()["error"]["message"]
