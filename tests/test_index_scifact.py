"""SciFact through the index with all-MiniLM-L6-v2: recall@10 against exact scoring, and the evaluator's nDCG@10.

The corpus (5,183 abstracts) is embedded once, by `sentforge index`, for the whole module.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

pytest.importorskip("usearch")

from sentforge import SentenceTransformer  # noqa: E402
from sentforge.cli import app  # noqa: E402
from sentforge.data.shared_sets import load_scifact  # noqa: E402
from sentforge.evaluation import InformationRetrievalEvaluator  # noqa: E402
from sentforge.index import VectorIndex  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def scifact_index(minilm_path, shared_data, tmp_path_factory):
    import transformers

    verbosity = transformers.logging.get_verbosity()
    folder = tmp_path_factory.mktemp("scifact") / "index"
    corpus = os.path.join(shared_data, "scifact", "corpus.jsonl")
    result = CliRunner().invoke(app, ["index", "all-MiniLM-L6-v2", corpus, "--out", str(folder),
                                      "--id-column", "_id", "--text-columns", "title,text", "--batch-size", "64"])
    transformers.logging.set_verbosity(verbosity)
    assert result.exit_code == 0, result.output
    model = SentenceTransformer(minilm_path, device="cpu")
    return VectorIndex.load(folder, model=model), model, load_scifact("test", root=shared_data)


def test_scifact_recall_and_ndcg_through_the_index(scifact_index):
    index, model, scifact = scifact_index
    assert index.exact and len(index) == 5183
    assert index.texts == [scifact.corpus[i] for i in index.ids]  # BEIR's "title text"
    sample = np.arange(0, len(index), 101)
    direct = model.encode([index.texts[i] for i in sample], normalize_embeddings=True)
    assert np.abs(index.vectors()[sample] - direct).max() <= 1e-5

    evaluator = InformationRetrievalEvaluator(scifact.queries, scifact.corpus, scifact.relevant_docs)
    assert evaluator.corpus_ids == index.ids
    queries = [scifact.queries[qid] for qid in evaluator.queries_ids]
    hits = index.search(queries, k=evaluator.max_k)

    query_vectors = model.encode(queries, normalize_embeddings=True)
    exact_top = np.argsort(-(query_vectors @ index.vectors().T), axis=1)[:, :10]
    recall = np.mean([len(set(h.ids[:10]) & {index.ids[i] for i in row}) / 10 for h, row in zip(hits, exact_top)])
    assert recall >= 0.99
    # the HNSW graph (what a corpus above the exact-search limit gets) on the same SciFact vectors
    graph = VectorIndex(None, index.manifest, index.ids, index.texts, index.vectors(), exact_search_limit=1000)
    assert not graph.exact
    approximate = graph.search_vectors(query_vectors, k=10)
    graph_recall = np.mean([len(set(h.ids) & {index.ids[i] for i in row}) / 10 for h, row in zip(approximate, exact_top)])
    assert graph_recall >= 0.99, graph_recall

    expected = evaluator(model, corpus_embeddings=torch.from_numpy(index.vectors()))
    ranked = [[{"corpus_id": i, "score": s} for i, s in zip(h.ids, h.scores)] for h in hits]
    through_index = evaluator.compute_metrics(ranked)
    print(f"SciFact test: recall@10 vs exact {recall:.4f}, nDCG@10 through the index {through_index['ndcg@k'][10]:.6f}, "
          f"evaluator cosine_ndcg@10 {expected['cosine_ndcg@10']:.6f}")
    assert through_index["ndcg@k"][10] == pytest.approx(expected["cosine_ndcg@10"], abs=1e-4)
    assert through_index["recall@k"][10] == pytest.approx(expected["cosine_recall@10"], abs=1e-4)
    assert expected["cosine_ndcg@10"] > 0.6  # all-MiniLM-L6-v2's published SciFact nDCG@10 is about 0.645
