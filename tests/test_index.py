"""VectorIndex: build, search (same ranking as scoring every text), add, save atomically, load, refuse other weights."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("usearch")

from tiny_models import build_tiny_bert  # noqa: E402

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.errors import SentforgeError  # noqa: E402
from sentforge.index import IndexManifest, VectorIndex  # noqa: E402

IDS = [f"doc-{i}" for i in range(8)]
TEXTS = ["the cat sat on the mat", "a dog ran in the park", "he drove to the stadium", "the weather is lovely today",
         "money in the bank", "green tree by the river", "gold mining permit claim", "the court rule on land"]
QUERIES = ["a cat on a mat", "river bank money", "sunny weather", "mining law"]


@pytest.fixture(scope="module")
def model(tiny_bert_dir):
    return SentenceTransformer(tiny_bert_dir, device="cpu")


@pytest.fixture(scope="module")
def built(tiny_bert_dir):
    return VectorIndex.build(tiny_bert_dir, IDS, TEXTS)


def brute_force(model, queries, texts, k):
    corpus = model.encode(texts, normalize_embeddings=True)
    scores = model.encode(queries, normalize_embeddings=True) @ corpus.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def test_search_ranks_like_scoring_every_text(built, model):
    order, scores = brute_force(model, QUERIES, TEXTS, 5)
    hits = built.search(QUERIES, k=5)
    for row, query_hits in enumerate(hits):
        assert query_hits.ids == [IDS[i] for i in order[row]]
        assert query_hits.texts == [TEXTS[i] for i in order[row]]
        np.testing.assert_allclose(query_hits.scores, scores[row], atol=1e-5)


def test_single_query_gives_one_result_and_k_is_clipped(built):
    hits = built.search("a cat on a mat", k=100)
    assert len(hits) == len(IDS) and hits.rows()[0]["rank"] == 1
    with pytest.raises(SentforgeError, match="k must be"):
        built.search("cat", k=0)


def test_manifest_records_model_and_weights(built, tiny_bert_dir, tmp_path):
    built.save(tmp_path / "index")
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    weights = hashlib.sha256((Path(tiny_bert_dir) / "model.safetensors").read_bytes()).hexdigest()
    assert manifest["model_sha256"] == weights
    assert manifest["model_path"] == str(Path(tiny_bert_dir).resolve())
    assert manifest["dimension"] == 32 and manifest["count"] == len(IDS) and manifest["metric"] == "cosine"
    assert manifest["precision"] == "float32" and manifest["search"] == "exact"
    assert manifest["sentforge_version"] and manifest["created"]
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == ["manifest.json", "rows.parquet", "vectors.npy"]


def test_save_load_round_trip(built, tmp_path):
    built.save(tmp_path / "index")
    loaded = VectorIndex.load(tmp_path / "index")
    assert loaded.ids == IDS and loaded.texts == TEXTS
    np.testing.assert_array_equal(loaded.vectors(), built.vectors())
    assert loaded.search("sunny weather", k=3).ids == built.search("sunny weather", k=3).ids


def test_add_appends_and_refuses_known_ids(tiny_bert_dir, model, tmp_path):
    index = VectorIndex.build(model, IDS[:5], TEXTS[:5])
    index.add(IDS[5:], TEXTS[5:])
    assert index.ids == IDS and len(index) == 8 and index.manifest.count == 8
    np.testing.assert_allclose(index.vectors(), model.encode(TEXTS, normalize_embeddings=True), atol=1e-6)
    with pytest.raises(SentforgeError, match="already in the index.*'doc-1'"):
        index.add(["doc-1", "new"], ["x y", "z"])
    index.save(tmp_path / "grown")
    assert VectorIndex.load(tmp_path / "grown", model=model).ids == IDS


def test_duplicate_or_empty_rows_are_refused(model):
    with pytest.raises(SentforgeError, match="more than once"):
        VectorIndex.build(model, ["a", "a"], ["x", "y"])
    with pytest.raises(SentforgeError, match="empty"):
        VectorIndex.build(model, ["a", "b"], ["x", "  "])
    with pytest.raises(SentforgeError, match="one id per text"):
        VectorIndex.build(model, ["a"], ["x", "y"])


def test_other_weights_are_refused(built, tmp_path):
    built.save(tmp_path / "index")
    other = build_tiny_bert(str(tmp_path / "other"), seed=1)
    with pytest.raises(SentforgeError, match="built with other weights.*sha256"):
        VectorIndex.load(tmp_path / "index", model=other)
    with pytest.raises(SentforgeError, match="built with other weights.*fingerprint"):
        VectorIndex.load(tmp_path / "index", model=SentenceTransformer(other, device="cpu"))


def test_same_weights_as_an_object_are_accepted(built, model, tmp_path):
    built.save(tmp_path / "index")
    assert len(VectorIndex.load(tmp_path / "index", model=model)) == len(IDS)


def test_save_replaces_an_index_but_never_a_foreign_folder(built, tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"not an index")
    with pytest.raises(SentforgeError, match="not a sentforge index"):
        built.save(foreign)
    assert (foreign / "cat.jpg").read_bytes() == b"not an index"
    built.save(tmp_path / "index")
    built.save(tmp_path / "index")  # replaced in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index", "photos"]  # no temp folders left


def test_failed_save_leaves_the_old_index(built, tmp_path, monkeypatch):
    built.save(tmp_path / "index")
    before = (tmp_path / "index" / "manifest.json").read_text()
    def disk_full(*_):
        raise OSError("disk full")

    monkeypatch.setattr("sentforge.index.vector_index.write_rows", disk_full)
    with pytest.raises(OSError, match="disk full"):
        built.save(tmp_path / "index")
    assert (tmp_path / "index" / "manifest.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index"]


def test_load_explains_missing_or_foreign_folders(tmp_path):
    with pytest.raises(SentforgeError, match="No index folder"):
        VectorIndex.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SentforgeError, match="not a sentforge index"):
        IndexManifest.read(tmp_path / "empty")


def test_hnsw_recall_on_random_vectors(tmp_path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((4000, 48)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [str(i) for i in range(len(vectors))]
    manifest = IndexManifest(model="random", model_path=None, model_sha256=None, weights_fingerprint="-",
                             dimension=48, count=len(ids))
    approximate = VectorIndex(None, manifest, ids, ids, vectors, exact_search_limit=1000)
    exact = VectorIndex(None, manifest, ids, ids, vectors)
    assert not approximate.exact and exact.exact
    queries = rng.standard_normal((200, 48)).astype(np.float32)
    found = approximate.search_vectors(queries, k=10)
    truth = exact.search_vectors(queries, k=10)
    recall = np.mean([len(set(a.ids) & set(b.ids)) / 10 for a, b in zip(found, truth)])
    assert recall >= 0.99
    approximate.save(tmp_path / "hnsw")
    assert (tmp_path / "hnsw" / "graph.usearch").is_file()
