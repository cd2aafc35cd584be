"""``/v1/search`` over an index loaded with the served model; an index of other weights is refused."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from tiny_models import build_tiny_bert  # noqa: E402

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.errors import SentforgeError  # noqa: E402
from sentforge.index import VectorIndex  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, app_for_model, load_app  # noqa: E402

IDS = ["d1", "d2", "d3", "d4"]
TEXTS = ["the cat sat on the mat", "a dog ran in the park", "money in the bank", "green tree by the river"]


@pytest.fixture(scope="module")
def index_dir(tiny_bert_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("served_index") / "index"
    VectorIndex.build(tiny_bert_dir, IDS, TEXTS).save(folder)
    return folder


def test_search_returns_the_index_ranking(tiny_bert_dir, index_dir):
    expected = VectorIndex.load(index_dir).search("a cat on a mat", k=3)
    with BackgroundServer(load_app(tiny_bert_dir, ServeConfig(), index_dir=str(index_dir))) as server:
        reply = httpx.post(f"{server.url}/v1/search", json={"query": "a cat on a mat", "k": 3})
        health = httpx.get(f"{server.url}/health").json()
        everything = httpx.post(f"{server.url}/v1/search", json={"query": "bank", "k": 100}).json()
    assert reply.status_code == 200
    body = reply.json()
    assert [hit["id"] for hit in body["data"]] == expected.ids
    assert [hit["rank"] for hit in body["data"]] == [1, 2, 3]
    assert [hit["text"] for hit in body["data"]] == expected.texts
    assert [hit["score"] for hit in body["data"]] == pytest.approx(expected.scores, abs=1e-6)
    assert body["usage"]["total_tokens"] > 0
    assert health["index"] == {"count": 4, "search": "exact", "precision": "float32"}
    assert len(everything["data"]) == 4  # k above the index size gives every row


def test_search_without_an_index_is_a_404(tiny_bert_dir):
    app = app_for_model(SentenceTransformer(tiny_bert_dir, device="cpu"), "tiny", model_folder=tiny_bert_dir)
    with BackgroundServer(app) as server:
        reply = httpx.post(f"{server.url}/v1/search", json={"query": "cat", "k": 3})
        assert reply.status_code == 404
        assert reply.json()["error"]["code"] == "index_not_loaded" and "--index" in reply.json()["error"]["message"]
        assert httpx.post(f"{server.url}/embed", json={"inputs": "still fine"}).status_code == 200


def test_index_of_other_weights_is_refused_at_start(index_dir, tmp_path):
    other = build_tiny_bert(str(tmp_path / "other"), seed=1)
    with pytest.raises(SentforgeError, match="built with other weights"):
        load_app(other, ServeConfig(), index_dir=str(index_dir))
