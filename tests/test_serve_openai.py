"""The OpenAI-compatible route: the official `openai` client gets the vectors `model.encode` gives."""

from __future__ import annotations

import base64

import numpy as np
import pytest

pytest.importorskip("fastapi")
openai = pytest.importorskip("openai")

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, app_for_model, load_app  # noqa: E402

API_KEY = "test-key"
TEXTS = ["the cat sat on the mat", "a dog ran in the park", "he drove to the stadium today",
         "the weather is lovely", "money in the bank"]


@pytest.fixture(scope="module")
def reference(tiny_bert_dir):
    return SentenceTransformer(tiny_bert_dir, device="cpu")


@pytest.fixture(scope="module")
def server(tiny_bert_dir):
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny-bert", ServeConfig(api_key=API_KEY),
                        model_folder=tiny_bert_dir)
    with BackgroundServer(app) as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=API_KEY, max_retries=0)


def vectors(response) -> np.ndarray:
    return np.array([item.embedding for item in sorted(response.data, key=lambda item: item.index)], dtype=np.float32)


def test_float_vectors_equal_encode(client, reference):
    response = client.embeddings.create(model="tiny-bert", input=TEXTS, encoding_format="float")
    expected = reference.encode(TEXTS, normalize_embeddings=True)
    assert response.object == "list" and response.model == "tiny-bert"
    assert [item.index for item in response.data] == list(range(len(TEXTS)))
    assert np.abs(vectors(response) - expected).max() <= 1e-6


def test_single_string_input(client, reference):
    response = client.embeddings.create(model="tiny-bert", input="the cat sat on the mat", encoding_format="float")
    assert len(response.data) == 1
    expected = reference.encode("the cat sat on the mat", normalize_embeddings=True)
    assert np.abs(vectors(response)[0] - expected).max() <= 1e-6


def test_client_default_base64_decodes_to_the_same_vectors(client, reference):
    # the client asks for base64 when no format is given, and decodes it itself
    response = client.embeddings.create(model="tiny-bert", input=TEXTS)
    assert np.abs(vectors(response) - reference.encode(TEXTS, normalize_embeddings=True)).max() <= 1e-6


def test_base64_is_little_endian_float32(server, reference):
    import httpx

    reply = httpx.post(f"{server.url}/v1/embeddings", headers={"Authorization": f"Bearer {API_KEY}"},
                       json={"input": TEXTS[:2], "model": "x", "encoding_format": "base64"})
    assert reply.status_code == 200
    decoded = np.stack([np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
                        for item in reply.json()["data"]])
    assert np.abs(decoded - reference.encode(TEXTS[:2], normalize_embeddings=True)).max() <= 1e-6


def test_dimensions_truncates_then_renormalises(client, reference):
    response = client.embeddings.create(model="tiny-bert", input=TEXTS, dimensions=8, encoding_format="float")
    got = vectors(response)
    assert got.shape == (len(TEXTS), 8)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    expected = reference.encode(TEXTS, truncate_dim=8, normalize_embeddings=True)
    assert np.abs(got - expected).max() <= 1e-6


def test_usage_counts_tokens_with_the_models_tokenizer(client, reference):
    response = client.embeddings.create(model="tiny-bert", input=TEXTS, encoding_format="float")
    expected = sum(len(ids) for ids in reference[0].tokenize_ids(TEXTS))
    assert response.usage.prompt_tokens == response.usage.total_tokens == expected


def test_over_long_text_is_truncated_by_default(client, reference):
    text = " ".join(["river"] * 200)  # far more than the tiny model's 64 tokens
    response = client.embeddings.create(model="tiny-bert", input=[text], encoding_format="float")
    assert response.usage.total_tokens == reference.max_seq_length
    assert np.abs(vectors(response)[0] - reference.encode(text, normalize_embeddings=True)).max() <= 1e-6


def test_no_truncate_refuses_over_long_text_with_413(tiny_bert_dir):
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny", ServeConfig(truncate=False),
                        model_folder=tiny_bert_dir)
    with BackgroundServer(app) as running:
        client = openai.OpenAI(base_url=f"{running.url}/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.APIStatusError) as caught:
            client.embeddings.create(model="tiny", input=["short text", " ".join(["river"] * 200)])
        assert caught.value.status_code == 413
        assert caught.value.body["code"] == "input_too_long" and "input[1]" in caught.value.body["message"]
        assert client.embeddings.create(model="tiny", input="short text").data  # still serving


def test_wrong_key_raises_authentication_error(server):
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.embeddings.create(model="tiny-bert", input="hello")


def test_models_list(client):
    assert [model.id for model in client.models.list().data] == ["tiny-bert"]


@pytest.mark.integration
def test_openai_client_on_packaged_minilm(minilm_path):
    sentences = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    with BackgroundServer(load_app("all-MiniLM-L6-v2", ServeConfig())) as running:
        client = openai.OpenAI(base_url=f"{running.url}/v1", api_key="unused", max_retries=0)
        got = vectors(client.embeddings.create(model="all-MiniLM-L6-v2", input=sentences))
        halved = vectors(client.embeddings.create(model="all-MiniLM-L6-v2", input=sentences, dimensions=128))
    model = SentenceTransformer(minilm_path, device="cpu")
    assert got.shape == (3, 384)
    assert np.abs(got - model.encode(sentences, normalize_embeddings=True)).max() <= 1e-6
    assert np.abs(halved - model.encode(sentences, truncate_dim=128, normalize_embeddings=True)).max() <= 1e-6
    assert float(got[0] @ got[1]) == pytest.approx(0.6660, abs=1e-4)
