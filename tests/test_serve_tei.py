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
