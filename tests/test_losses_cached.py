"""CachedMultipleNegativesRankingLoss (GradCache): same loss and parameter gradients as the
uncached loss, also with dropout, loss scaling, Matryoshka, and against sentence-transformers.
Gradients are compared at 1e-6 on float64 fake models."""

from __future__ import annotations

import pytest
import torch
from sentence_transformers.sentence_transformer import losses as st_losses
from test_losses_fakes import copy_features, mean_model, param_grads, random_features

from sentforge import losses

TOL = 1e-6


def loss_and_grads(model, loss, features, scale: float = 1.0, seed: int = 0):
    """What a training step sees: the loss value and the parameter gradients after backward."""
    model.zero_grad()
    torch.manual_seed(seed)
    value = loss(copy_features(features), None)
    (value * scale).backward()
    return value.item(), param_grads(model)


def assert_same(a, b, tol=TOL):
    value_a, grads_a = a
    value_b, grads_b = b
    assert value_a == pytest.approx(value_b, abs=tol)
    assert grads_a.keys() == grads_b.keys() and grads_a
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], atol=tol, rtol=0, msg=name)


@pytest.mark.parametrize("num_columns,mini_batch_size", [(2, 3), (3, 1), (4, 32)])
def test_cached_mnrl_equals_mnrl_loss_and_gradients(num_columns, mini_batch_size):
    model = mean_model().double()
    features = random_features(num_columns, 7)
    reference = loss_and_grads(model, losses.MultipleNegativesRankingLoss(model), features)
    cached = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=mini_batch_size)
    assert_same(loss_and_grads(model, cached, features), reference)


def test_cached_mnrl_equals_mnrl_with_other_directions():
    model = mean_model().double()
    features = random_features(3, 6)
    options = dict(directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")
    reference = loss_and_grads(model, losses.MultipleNegativesRankingLoss(model, **options), features)
    cached = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=4, **options)
    assert_same(loss_and_grads(model, cached, features), reference)


def test_cached_symmetric_loss_equals_symmetric_loss():
    model = mean_model().double()
    features = random_features(2, 6)
    reference = loss_and_grads(model, losses.MultipleNegativesSymmetricRankingLoss(model), features)
    cached = losses.CachedMultipleNegativesSymmetricRankingLoss(model, mini_batch_size=4)
    assert_same(loss_and_grads(model, cached, features), reference)


def test_cached_mnrl_replays_dropout_exactly():
    # One mini-batch per column: the cached first pass draws the same dropout masks as the
    # uncached forward. The gradients only agree if the replay restores those masks.
    model = mean_model(dropout=0.3).double().train()
    features = random_features(2, 6)
    reference = loss_and_grads(model, losses.MultipleNegativesRankingLoss(model), features, seed=7)
    cached = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=6)
    assert_same(loss_and_grads(model, cached, features, seed=7), reference)


def test_cached_mnrl_equals_sentence_transformers_with_dropout_and_minibatches():
    model = mean_model(dropout=0.3).double().train()
    features = random_features(3, 8)
    ours = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=3)
    theirs = st_losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=3)
    assert_same(loss_and_grads(model, ours, features, seed=5), loss_and_grads(model, theirs, features, seed=5))


def test_cached_mnrl_scales_gradients_with_the_outer_backward():
    model = mean_model().double()
    features = random_features(2, 5)
    loss = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=2)
    value, grads = loss_and_grads(model, loss, features)
    value3, grads3 = loss_and_grads(model, loss, features, scale=3.0)
    assert value3 == pytest.approx(value)
    for name in grads:
        torch.testing.assert_close(grads3[name], 3.0 * grads[name], atol=TOL, rtol=0)


def test_cached_mnrl_without_grad_gives_the_loss_only():
    model = mean_model().double()
    features = random_features(2, 5)
    expected = losses.MultipleNegativesRankingLoss(model)(copy_features(features), None).item()
    with torch.no_grad():
        value = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=2)(copy_features(features), None)
    assert not value.requires_grad
    assert value.item() == pytest.approx(expected, abs=TOL)


def test_cached_mnrl_token_budget_minibatches_give_the_same_gradients():
    model = mean_model().double()
    features = random_features(2, 8, max_len=6)
    reference = loss_and_grads(model, losses.MultipleNegativesRankingLoss(model), features)
    cached = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_num_tokens=7)
    assert_same(loss_and_grads(model, cached, features), reference)


def test_matryoshka_over_cached_mnrl_equals_matryoshka_over_mnrl():
    model = mean_model().double()
    features = random_features(3, 6)
    dims, weights = [8, 4, 2], [1.0, 0.5, 2.0]
    plain = losses.MatryoshkaLoss(model, losses.MultipleNegativesRankingLoss(model), dims, weights)
    cached = losses.MatryoshkaLoss(
        model, losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=4), dims, weights
    )
    theirs = st_losses.MatryoshkaLoss(
        model, st_losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=4), dims, weights
    )
    reference = loss_and_grads(model, plain, features)
    assert_same(loss_and_grads(model, cached, features), reference)
    assert_same(loss_and_grads(model, theirs, features), reference)


def test_matryoshka_gradients_equal_sentence_transformers():
    model = mean_model().double()
    features = random_features(2, 6)
    labels = torch.tensor([0.1, 0.9, 0.3, 0.5, 0.0, 1.0])

    def grads(make):
        model.zero_grad()
        make(model)(copy_features(features), labels).backward()
        return param_grads(model)

    ours = grads(lambda m: losses.MatryoshkaLoss(m, losses.CoSENTLoss(m), [8, 3]))
    theirs = grads(lambda m: st_losses.MatryoshkaLoss(m, st_losses.CoSENTLoss(m), [8, 3]))
    for name in theirs:
        torch.testing.assert_close(ours[name], theirs[name], atol=TOL, rtol=0)


def test_cached_mnrl_replays_under_the_forward_autocast():
    # backward() runs outside the training step's autocast block; the replay must re-enter it,
    # or the re-embedded mini-batches would differ from the cached ones.
    model = mean_model()
    dtypes = []
    model[0].linear.register_forward_hook(lambda module, args, output: dtypes.append(output.dtype))
    loss = losses.CachedMultipleNegativesRankingLoss(model, mini_batch_size=3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = loss(random_features(2, 6), None)
    value.backward()
    assert len(dtypes) == 8  # 2 columns x 2 mini-batches, embedded then replayed
    assert set(dtypes) == {torch.bfloat16}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_matryoshka_shrink_equals_sentence_transformers_in_every_dtype(dtype):
    from sentence_transformers.sentence_transformer.losses.matryoshka import shrink as st_shrink

    from sentforge.losses.matryoshka import shrink

    embeddings = (torch.randn(5, 16) * 30).to(dtype)  # large values: a half-precision norm would round
    ours, theirs = shrink(embeddings, 8), st_shrink(embeddings, 8)
    assert ours.dtype == theirs.dtype == dtype
    assert torch.equal(ours, theirs)
