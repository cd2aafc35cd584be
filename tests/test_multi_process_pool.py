"""Multi-process encoding with a pool of 2 CPU worker processes (spawned, as in sentence-transformers).

Results must equal a single-process ``encode`` within 1e-6 (the workers run the same float32 kernels,
possibly with another thread count) and keep the input order across chunks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sentforge import SentenceTransformer
from sentforge.errors import SentforgeError

TOLERANCE = 1e-6
WORDS = "the cat sat on mat dog ran in park car drove to stadium weather lovely today sunny outside".split()


@pytest.fixture(scope="module")
def model(tiny_bert_dir):
    return SentenceTransformer(tiny_bert_dir, device="cpu", prompts={"query": "query: "})


@pytest.fixture(scope="module")
def pool(model):
    pool = model.start_multi_process_pool(["cpu", "cpu"])
    yield pool
    model.stop_multi_process_pool(pool)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    rng = np.random.default_rng(0)
    # lengths vary so the length-sorted batches inside each worker differ from the input order
    texts = [" ".join(rng.choice(WORDS, int(rng.integers(1, 12)))) for _ in range(70)]
    return list(dict.fromkeys(texts))  # distinct texts: a row from the wrong text cannot match


def test_pool_has_two_live_workers(pool):
    assert len(pool["processes"]) == 2 and all(p.is_alive() for p in pool["processes"])


@pytest.mark.parametrize("chunk_size", [None, 5, 100])
def test_pool_encode_equals_single_process(model, pool, texts, chunk_size):
    expected = model.encode(texts)
    got = model.encode(texts, pool=pool, chunk_size=chunk_size)
    assert isinstance(got, np.ndarray) and got.shape == expected.shape
    assert np.abs(got - expected).max() < TOLERANCE
    # the row-by-row check above is an order check: distinct texts are far apart
    gaps = np.abs(expected[:, None, :] - expected[None, :, :]).max(-1) + np.eye(len(texts))
    assert gaps.min() > 1e-3


def test_encode_options_reach_the_workers(model, pool, texts):
    options = {"normalize_embeddings": True, "truncate_dim": 16, "prompt_name": "query", "batch_size": 7}
    expected = model.encode(texts, **options)
    got = model.encode(texts, pool=pool, chunk_size=10, **options)
    assert got.shape == (len(texts), 16) and np.abs(got - expected).max() < TOLERANCE
    tensor = model.encode(texts, pool=pool, convert_to_tensor=True)
    assert isinstance(tensor, torch.Tensor) and torch.allclose(tensor, torch.from_numpy(model.encode(texts)),
                                                               atol=TOLERANCE)
    int8 = model.encode(texts, pool=pool, precision="int8")
    assert int8.dtype == np.int8  # quantized after gathering, from the whole set's ranges; 1 step for rounding
    assert np.abs(int8.astype(int) - model.encode(texts, precision="int8").astype(int)).max() <= 1
    single = model.encode(texts[3], pool=pool)
    assert single.shape == (model.get_sentence_embedding_dimension(),)
    assert np.abs(single - model.encode(texts[3])).max() < TOLERANCE


def test_encode_multi_process_is_the_older_name(model, pool, texts):
    got = model.encode_multi_process(texts, pool, chunk_size=8, normalize_embeddings=True)
    assert np.abs(got - model.encode(texts, normalize_embeddings=True)).max() < TOLERANCE


def test_bad_input_is_refused_before_the_workers(model, pool):
    with pytest.raises(ValueError, match="chunk_size"):
        model.encode(["a"], pool=pool, chunk_size=0)
    with pytest.raises(SentforgeError, match="Prompt name"):
        model.encode(["a"], pool=pool, prompt_name="missing")
    with pytest.raises(SentforgeError):
        model.encode(["a", None], pool=pool)
    assert model.encode([], pool=pool).shape == (0, model.get_sentence_embedding_dimension())
    assert all(p.is_alive() for p in pool["processes"])  # the pool is still usable
    assert np.abs(model.encode(["the cat"], pool=pool) - model.encode(["the cat"])).max() < TOLERANCE


def test_device_list_uses_a_temporary_pool_and_a_trained_model_pickles(tiny_bert_dir, texts, tmp_path, monkeypatch):
    """A model that has been trained (it carries the run's record for its card) still goes to the workers."""
    from torch.utils.data import DataLoader

    from sentforge import InputExample, losses

    monkeypatch.chdir(tmp_path)
    trained = SentenceTransformer(tiny_bert_dir, device="cpu")
    examples = [InputExample(texts=[a, b]) for a, b in zip(texts[:8], texts[8:16])]
    trained.fit([(DataLoader(examples, batch_size=4), losses.MultipleNegativesRankingLoss(trained))],
                show_progress_bar=False)
    got = trained.encode(texts, device=["cpu", "cpu"], chunk_size=9)
    assert np.abs(got - trained.encode(texts)).max() < TOLERANCE
