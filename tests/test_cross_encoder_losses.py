"""Every cross-encoder loss gives sentence-transformers' value and gradients on the same weights and batch."""

from __future__ import annotations

import pytest
import torch

from cross_encoder_tiny import PAIRS, build_tiny_cross_encoder
from sentforge.cross_encoder import CrossEncoder, losses

st_ce = pytest.importorskip("sentence_transformers.cross_encoder")
st_losses = pytest.importorskip("sentence_transformers.cross_encoder.losses")

QUERIES = [q for q, _ in PAIRS]
DOCS = [d for _, d in PAIRS]
HARD = DOCS[2:] + DOCS[:2]
LISTS = [DOCS[:4], DOCS[1:3], DOCS[2:6], DOCS[:1], DOCS]
LIST_LABELS = [torch.tensor(v, dtype=torch.float)
               for v in ([1, 0, 2, 0], [0, 1], [3, 1, 0, 0], [1], [0, 1, 0, 2, 0, 1])]

CASES = {
    "BinaryCrossEntropyLoss": (dict(), [QUERIES, DOCS], torch.tensor([1, 0, 1, 0, 1, 1])),
    "BinaryCrossEntropyLoss-pos_weight": (dict(pos_weight=torch.tensor(3.0)), [QUERIES, DOCS],
                                          torch.tensor([1, 0, 1, 0, 0.5, 1])),
    "MSELoss": (dict(), [QUERIES, DOCS], torch.tensor([0.3, 1.2, -0.5, 0.0, 2.0, 0.7])),
    "MarginMSELoss": (dict(), [QUERIES, DOCS, HARD], torch.tensor([0.5, -0.2, 1.0, 0.0, 0.3, 0.9])),
    "MarginMSELoss-scores": (dict(), [QUERIES, DOCS, HARD, DOCS[::-1]],
                             torch.tensor([[1.0, 0.2, 0.0]] * 3 + [[0.5, 0.4, 0.9]] * 3)),
    "MultipleNegativesRankingLoss": (dict(), [QUERIES, DOCS], None),
    "MultipleNegativesRankingLoss-all": (dict(num_negatives=None, activation_fn=None, scale=5.0),
                                         [QUERIES, DOCS, HARD], None),
    "CachedMultipleNegativesRankingLoss": (dict(mini_batch_size=4), [QUERIES, DOCS, HARD], None),
    "LambdaLoss": (dict(), [QUERIES[:5], LISTS], LIST_LABELS),
    "LambdaLoss-k": (dict(k=2, mini_batch_size=3), [QUERIES[:5], LISTS], LIST_LABELS),
    "LambdaLoss-NDCGLoss1": ("NDCGLoss1Scheme", [QUERIES[:5], LISTS], LIST_LABELS),
    "LambdaLoss-LambdaRank": ("LambdaRankScheme", [QUERIES[:5], LISTS], LIST_LABELS),
    "RankNetLoss": (dict(), [QUERIES[:5], LISTS], LIST_LABELS),
    "ListNetLoss": (dict(), [QUERIES[:5], LISTS], LIST_LABELS),
    "ListMLELoss": (dict(), [QUERIES[:5], LISTS], LIST_LABELS),
    "ListMLELoss-label-order": (dict(respect_input_order=False), [QUERIES[:5], LISTS], LIST_LABELS),
    "PListMLELoss": (dict(), [QUERIES[:5], LISTS], LIST_LABELS),
}


@pytest.fixture(scope="module")
def tiny_ce_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("loss_ce")), dropout=0.0)


@pytest.fixture(scope="module")
def tiny_ce3_dir(tmp_path_factory) -> str:
    return build_tiny_cross_encoder(str(tmp_path_factory.mktemp("loss_ce3")), num_labels=3, dropout=0.0)


@pytest.fixture(scope="module")
def models(tiny_ce_dir):
    """(ours, sentence-transformers') on the same weights; losses never change the weights."""
    return CrossEncoder(tiny_ce_dir, device="cpu"), st_ce.CrossEncoder(tiny_ce_dir, device="cpu")


def _loss(module, name: str, model, kwargs):
    if isinstance(kwargs, str):  # a LambdaLoss weighting scheme by name
        return module.LambdaLoss(model, weighting_scheme=getattr(module, kwargs)())
    return getattr(module, name)(model, **kwargs)


def _value_and_grads(model, loss, inputs, labels):
    model.zero_grad(set_to_none=True)
    torch.manual_seed(7)  # MultipleNegativesRankingLoss draws its negatives
    value = loss([list(column) for column in inputs], labels)
    value.backward()
    grads = {name: p.grad.clone() for name, p in model.model.named_parameters() if p.grad is not None}
    return value.detach(), grads


def _compare(ours_model, theirs_model, ours_loss, theirs_loss, inputs, labels):
    ours_value, ours_grads = _value_and_grads(ours_model, ours_loss, inputs, labels)
    theirs_value, theirs_grads = _value_and_grads(theirs_model, theirs_loss, inputs, labels)
    assert abs(float(ours_value) - float(theirs_value)) < 1e-5, (float(ours_value), float(theirs_value))
    assert set(ours_grads) == set(theirs_grads)
    for name, grad in theirs_grads.items():
        torch.testing.assert_close(ours_grads[name], grad, atol=1e-4, rtol=1e-4, msg=name)


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_value_and_gradients_match(case, models):
    kwargs, inputs, labels = CASES[case]
    name = case.split("-")[0]
    ours_model, theirs_model = models
    _compare(ours_model, theirs_model, _loss(losses, name, ours_model, kwargs),
             _loss(st_losses, name, theirs_model, kwargs), inputs, labels)


def test_cross_entropy_matches(tiny_ce3_dir):
    ours_model, theirs_model = CrossEncoder(tiny_ce3_dir, device="cpu"), st_ce.CrossEncoder(tiny_ce3_dir, device="cpu")
    labels = torch.tensor([0, 2, 1, 1, 0, 2])
    _compare(ours_model, theirs_model, losses.CrossEntropyLoss(ours_model), st_losses.CrossEntropyLoss(theirs_model),
             [QUERIES, DOCS], labels)


def test_config_dicts_match(models):
    ours_model, theirs_model = models
    for case, (kwargs, _, _) in CASES.items():
        name = case.split("-")[0]
        mine, reference = _loss(losses, name, ours_model, kwargs), _loss(st_losses, name, theirs_model, kwargs)
        if hasattr(reference, "get_config_dict"):
            ours_config = {k: v.replace("sentforge.", "sentence_transformers.") if isinstance(v, str) else v
                           for k, v in mine.get_config_dict().items()}
            assert ours_config == reference.get_config_dict(), case


def test_one_label_losses_refuse_multi_label_models(tiny_ce3_dir):
    model = CrossEncoder(tiny_ce3_dir, device="cpu")
    with pytest.raises(ValueError, match="1 output label"):
        losses.BinaryCrossEntropyLoss(model)
    with pytest.raises(ValueError, match="two non-label columns"):
        losses.CrossEntropyLoss(model)([QUERIES, DOCS, HARD], torch.tensor([0] * 6))
