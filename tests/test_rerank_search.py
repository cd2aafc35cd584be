"""Reranked search: `sentforge search --rerank` and `/v1/search` with `serve --reranker` reorder the
retrieved top N by the CrossEncoder's scores; a missing or unusable reranker is one clear error."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

pytest.importorskip("usearch")
pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from cross_encoder_tiny import build_tiny_cross_encoder  # noqa: E402

from sentforge import CrossEncoder, SentenceTransformer  # noqa: E402
from sentforge.cli import app  # noqa: E402
from sentforge.commands.search import load_reranker  # noqa: E402
from sentforge.index import VectorIndex  # noqa: E402
from sentforge.serving import BackgroundServer, ServeConfig, app_for_model, load_app  # noqa: E402

ROWS = {
    "d1": "the cat sat on the mat",
    "d2": "a dog ran in the park",
    "d3": "money in the bank",
    "d4": "green tree by the river",
    "d5": "the miner has a license for the land",
    "d6": "it is lovely outside today",
    "d7": "he drove a fast car to the stadium",
    "d8": "the owner paid a fee to the court",
}
QUERY = "a cat and a dog in the park"
K, TOP = 3, 6


@pytest.fixture(autouse=True)
def restore_library_logging():
    """The commands quiet transformers' logs and bars; put them back for the other test files."""
    import transformers

    verbosity = transformers.logging.get_verbosity()
    yield
    transformers.logging.set_verbosity(verbosity)
    transformers.utils.logging.enable_progress_bar()


@pytest.fixture(scope="module")
def index_dir(tiny_bert_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("rerank_index") / "index"
    VectorIndex.build(tiny_bert_dir, list(ROWS), list(ROWS.values())).save(folder)
    return folder


@pytest.fixture(scope="module")
def reranker_dir(tmp_path_factory):
    """A tiny random CrossEncoder whose raw scores (no sigmoid, a sharper head) are far apart, so the
    order does not hang on float noise."""
    folder = tmp_path_factory.mktemp("tiny_reranker")
    reranker = CrossEncoder(build_tiny_cross_encoder(str(folder / "random")), device="cpu",
                            activation_fn=torch.nn.Identity())
    with torch.no_grad():
        reranker.model.classifier.weight.mul_(1000.0)
    reranker.save(str(folder / "sharp"))
    return str(folder / "sharp")


@pytest.fixture(scope="module")
def expected(index_dir, reranker_dir):
    """The retrieved top TOP, sorted by CrossEncoder.predict (computed apart from the code under test)."""
    hits = VectorIndex.load(index_dir).search(QUERY, k=TOP)
    scores = CrossEncoder(reranker_dir, device="cpu").predict([(QUERY, text) for text in hits.texts])
    order = sorted(range(len(hits)), key=lambda i: -float(scores[i]))
    assert min(float(scores[a] - scores[b]) for a, b in zip(order, order[1:])) > 1e-2, "scores too close to order"
    order = order[:K]
    assert [hits.ids[i] for i in order] != hits.ids[:K], "the reranker must change the order for this test to tell"
    return {"ids": [hits.ids[i] for i in order], "scores": [float(scores[i]) for i in order],
            "cosines": [hits.scores[i] for i in order], "retrieval_ranks": [i + 1 for i in order]}


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_cli_reranks_the_retrieved_top_n_by_cross_encoder_scores(index_dir, reranker_dir, expected):
    result = invoke("search", index_dir, QUERY, "-k", K, "--rerank", reranker_dir, "--rerank-top", TOP)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if any(f" {i} " in line for i in ROWS)]
    assert [next(i for i in ROWS if f" {i} " in line) for line in lines] == expected["ids"]
    for line, score, cosine, rank in zip(lines, expected["scores"], expected["cosines"], expected["retrieval_ranks"]):
        cells = [cell.strip() for cell in line.split("│") if cell.strip()]
        assert float(cells[2]) == pytest.approx(score, abs=1e-3) and float(cells[3]) == pytest.approx(cosine, abs=1e-3)
        assert cells[4] == str(rank), line


def test_server_reranks_the_retrieved_top_n_by_cross_encoder_scores(tiny_bert_dir, index_dir, reranker_dir,
                                                                      expected):
    served = load_app(tiny_bert_dir, ServeConfig(), index_dir=str(index_dir),
                      reranker=load_reranker(reranker_dir), reranker_name="tiny-reranker")
    plain = VectorIndex.load(index_dir).search(QUERY, k=K)
    url_of = "{}/v1/search".format
    with BackgroundServer(served) as server:
        reranked = httpx.post(url_of(server.url), json={"query": QUERY, "k": K, "rerank_top": TOP})
        unranked = httpx.post(url_of(server.url), json={"query": QUERY, "k": K, "rerank": False}).json()
        too_few = httpx.post(url_of(server.url), json={"query": QUERY, "k": K, "rerank_top": K - 1})
        health = httpx.get(f"{server.url}/health").json()
    assert reranked.status_code == 200, reranked.text
    body = reranked.json()
    assert body["reranker"] == "tiny-reranker" and health["reranker"] == "tiny-reranker"
    assert [hit["id"] for hit in body["data"]] == expected["ids"]
    assert [hit["rank"] for hit in body["data"]] == list(range(1, K + 1))
    assert [hit["score"] for hit in body["data"]] == pytest.approx(expected["scores"], rel=1e-5)
    assert [hit["retrieval_score"] for hit in body["data"]] == pytest.approx(expected["cosines"], abs=1e-6)
    assert [hit["retrieval_rank"] for hit in body["data"]] == expected["retrieval_ranks"]
    assert [hit["text"] for hit in body["data"]] == [ROWS[i] for i in expected["ids"]]
    assert [hit["id"] for hit in unranked["data"]] == plain.ids and "reranker" not in unranked
    assert too_few.status_code == 400 and too_few.json()["error"]["param"] == "rerank_top"


def test_rerank_without_a_reranker_is_a_400(tiny_bert_dir, index_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    served = app_for_model(model, "tiny", index=VectorIndex.load(index_dir, model=model), model_folder=tiny_bert_dir)
    with BackgroundServer(served) as server:
        refused = httpx.post(f"{server.url}/v1/search", json={"query": QUERY, "k": K, "rerank": True})
        plain = httpx.post(f"{server.url}/v1/search", json={"query": QUERY, "k": K})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "reranker_not_loaded" and error["param"] == "rerank"
    assert "--reranker" in error["message"]
    assert plain.status_code == 200 and "retrieval_score" not in plain.json()["data"][0]


def test_unusable_rerankers_are_one_clear_error(tiny_bert_dir, index_dir, tmp_path):
    missing = tmp_path / "no-reranker"
    cases = [
        (["search", index_dir, QUERY, "--rerank", missing], "Could not load the reranker"),
        (["search", index_dir, QUERY, "--rerank", tiny_bert_dir], "is not a reranker"),
        (["search", index_dir, QUERY, "-k", 5, "--rerank", missing, "--rerank-top", 4], "smaller than -k"),
        (["search", index_dir, QUERY, "--rerank-top", 20], "pass --rerank MODEL"),
        (["serve", tiny_bert_dir, "--index", index_dir, "--reranker", missing], "Could not load the reranker"),
        (["serve", tiny_bert_dir, "--reranker", tiny_bert_dir], "needs an index"),
    ]
    for args, words in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Error:" in result.output and words in " ".join(result.output.split()), result.output
        assert "Traceback" not in result.output


def test_reranking_runs_off_the_event_loop():
    """A slow reranker leaves the event loop free: other coroutines keep running meanwhile."""
    import asyncio
    import threading
    import time

    from sentforge.index import SearchHits
    from sentforge.serving.reranking import RerankService

    class SlowReranker:
        num_labels = 1
        threads: list[str] = []

        def predict(self, pairs, **_):
            self.threads.append(threading.current_thread().name)
            time.sleep(0.3)
            return [float(-i) for i in range(len(pairs))]

    async def rerank_while_ticking():
        service = RerankService(SlowReranker(), "slow")
        service.start()
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.ensure_future(tick())
        rows = await service.submit("q", SearchHits(["a", "b"], [0.9, 0.8], ["x", "y"]), 1)
        ticker.cancel()
        service.stop()
        return rows, ticks

    rows, ticks = asyncio.run(rerank_while_ticking())
    assert [row["id"] for row in rows] == ["a"] and rows[0]["retrieval_rank"] == 1
    assert ticks >= 10, "the event loop stalled while the reranker ran"
    assert SlowReranker.threads and SlowReranker.threads[0] != threading.main_thread().name


@pytest.mark.parametrize("weight", [0.0, 0.5])
def test_cli_uses_the_fusion_weight_saved_with_the_reranker(index_dir, reranker_dir, tmp_path, weight):
    import shutil

    import numpy as np

    from sentforge.cross_encoder.score_fusion import save_fusion

    folder = tmp_path / "fused"
    shutil.copytree(reranker_dir, folder)
    save_fusion(str(folder), weight, "test", {weight: 1.0})
    hits = VectorIndex.load(index_dir).search(QUERY, k=TOP)
    scores = np.asarray(CrossEncoder(str(folder), device="cpu").predict([(QUERY, t) for t in hits.texts]), float)
    cosines = np.asarray(hits.scores, float)
    combined = weight * (scores - scores.mean()) / scores.std() + (1 - weight) * (cosines - cosines.mean()) / cosines.std()
    want = [hits.ids[i] for i in sorted(range(len(hits)), key=lambda i: -combined[i])[:K]]
    if weight == 0.0:
        assert want == hits.ids[:K]  # the retriever's own order
    result = invoke("search", index_dir, QUERY, "-k", K, "--rerank", folder, "--rerank-top", TOP)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if any(f" {i} " in line for i in ROWS)]
    assert [next(i for i in ROWS if f" {i} " in line) for line in lines] == want
    assert "fused" in result.output
