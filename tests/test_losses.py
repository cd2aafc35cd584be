"""Loss values: hand computations on fixed embeddings, and agreement with sentence-transformers.

Hand computations use plain Python loops over a fixed embedding table (float64) and are compared
at 1e-9; comparisons with the sentence-transformers class on the same fake model at 1e-6.
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace

import pytest
import torch
from sentence_transformers import util as st_util
from sentence_transformers.sentence_transformer import losses as st_losses
from test_losses_fakes import copy_features, fixed_features, fixed_model, mean_model, random_features
from torch import nn

import sentforge.similarity
from sentforge import losses
from sentforge.similarity import dot_score, pairwise_cos_sim

ATOL_ST = 1e-6
ATOL_HAND = 1e-9
BATCH = 4


def table(rows: int, dim: int = 6, seed: int = 3) -> torch.Tensor:
    return torch.randn(rows, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def cos(a, b) -> float:
    return float(a @ b / (a.norm() * b.norm()))


def run(loss, features, labels=None) -> float:
    return loss(copy_features(features), labels).item()


# ---------------------------------------------------------------- hand computations


@pytest.mark.parametrize("num_columns", [2, 3, 4])
def test_mnrl_matches_hand_computation(num_columns):
    emb = table(num_columns * BATCH)
    loss = losses.MultipleNegativesRankingLoss(fixed_model(emb))
    cols = [emb[c * BATCH : (c + 1) * BATCH] for c in range(num_columns)]
    candidates = torch.cat(cols[1:])
    expected = 0.0
    for i in range(BATCH):
        logits = [20.0 * cos(cols[0][i], c) for c in candidates]
        expected += -(logits[i] - math.log(sum(math.exp(x) for x in logits)))
    assert run(loss, fixed_features(num_columns, BATCH)) == pytest.approx(expected / BATCH, abs=ATOL_HAND)


def test_symmetric_mnrl_matches_hand_computation():
    emb = table(2 * BATCH)
    anchors, positives = emb[:BATCH], emb[BATCH:]
    loss = losses.MultipleNegativesSymmetricRankingLoss(fixed_model(emb))
    expected = 0.0
    for i in range(BATCH):
        forward = [20.0 * cos(anchors[i], p) for p in positives]
        backward = [20.0 * cos(a, positives[i]) for a in anchors]
        log_z = 0.5 * (math.log(sum(map(math.exp, forward))) + math.log(sum(map(math.exp, backward))))
        expected += log_z - forward[i]
    assert run(loss, fixed_features(2, BATCH)) == pytest.approx(expected / BATCH, abs=ATOL_HAND)


def test_cosine_similarity_loss_matches_hand_computation():
    emb = table(2 * BATCH)
    labels = torch.tensor([0.1, 0.9, 0.5, 0.0])  # the loss reads labels as float32, as sentence-transformers
    expected = sum((cos(emb[i], emb[BATCH + i]) - labels[i].item()) ** 2 for i in range(BATCH)) / BATCH
    loss = losses.CosineSimilarityLoss(fixed_model(emb))
    assert run(loss, fixed_features(2, BATCH), labels) == pytest.approx(expected, abs=ATOL_HAND)


def test_mse_loss_compares_every_column_to_the_teacher():
    emb = table(2 * BATCH)
    teacher = table(BATCH, seed=9)
    expected = sum(
        float(((emb[c * BATCH + i] - teacher[i]) ** 2).sum()) for c in range(2) for i in range(BATCH)
    ) / (2 * BATCH * emb.shape[1])
    loss = losses.MSELoss(fixed_model(emb))
    assert run(loss, fixed_features(2, BATCH), teacher) == pytest.approx(expected, abs=ATOL_HAND)


def _cosent_by_hand(scores: list[float], labels: list[float], scale: float = 20.0) -> float:
    total = 1.0
    for i in range(len(scores)):
        for j in range(len(scores)):
            if labels[i] > labels[j]:
                total += math.exp(scale * (scores[j] - scores[i]))
    return math.log(total)


def test_cosent_matches_hand_computation_with_ties():
    emb = table(2 * BATCH)
    labels = [0.2, 0.8, 0.2, 1.0]
    scores = [cos(emb[i], emb[BATCH + i]) for i in range(BATCH)]
    loss = losses.CoSENTLoss(fixed_model(emb))
    value = run(loss, fixed_features(2, BATCH), torch.tensor(labels, dtype=torch.float64))
    assert value == pytest.approx(_cosent_by_hand(scores, labels), abs=ATOL_HAND)


def test_angle_matches_hand_computation():
    emb = table(2 * BATCH)

    def angle(x, y) -> float:
        x, y = x / x.norm(), y / y.norm()
        half = len(x) // 2
        cosine = float(x @ y)
        sine = float(x[half:] @ y[:half] - x[:half] @ y[half:])
        return abs(cosine + sine)

    labels = [0.0, 1.0, 0.5, 0.3]
    scores = [angle(emb[i], emb[BATCH + i]) for i in range(BATCH)]
    loss = losses.AnglELoss(fixed_model(emb))
    value = run(loss, fixed_features(2, BATCH), torch.tensor(labels, dtype=torch.float64))
    assert value == pytest.approx(_cosent_by_hand(scores, labels), abs=ATOL_HAND)


def test_contrastive_losses_match_hand_computation():
    emb = table(2 * BATCH)
    labels = [1, 0, 1, 0]
    dist = [1 - cos(emb[i], emb[BATCH + i]) for i in range(BATCH)]
    expected = sum(
        0.5 * (y * d**2 + (1 - y) * max(0.0, 0.5 - d) ** 2) for y, d in zip(labels, dist)
    ) / BATCH
    loss = losses.ContrastiveLoss(fixed_model(emb))
    assert run(loss, fixed_features(2, BATCH), torch.tensor(labels)) == pytest.approx(expected, abs=ATOL_HAND)

    pos = [d for d, y in zip(dist, labels) if y == 1]
    neg = [d for d, y in zip(dist, labels) if y == 0]
    online = sum(d**2 for d in pos if d > min(neg)) + sum(max(0.0, 0.5 - d) ** 2 for d in neg if d < max(pos))
    loss = losses.OnlineContrastiveLoss(fixed_model(emb))
    assert run(loss, fixed_features(2, BATCH), torch.tensor(labels)) == pytest.approx(online, abs=ATOL_HAND)


def test_triplet_loss_matches_hand_computation():
    emb = table(3 * BATCH)
    expected = 0.0
    for i in range(BATCH):
        a, p, n = emb[i], emb[BATCH + i], emb[2 * BATCH + i]
        expected += max(0.0, float((a - p).norm() - (a - n).norm()) + 5)
    loss = losses.TripletLoss(fixed_model(emb))
    assert run(loss, fixed_features(3, BATCH)) == pytest.approx(expected / BATCH, abs=ATOL_HAND)


def test_margin_mse_matches_hand_computation():
    emb = table(4 * BATCH)
    labels = table(BATCH, dim=2, seed=5)  # teacher margins for the two negatives
    expected = 0.0
    for i in range(BATCH):
        q = emb[i]
        for k in range(2):
            student = float(q @ emb[BATCH + i] - q @ emb[(2 + k) * BATCH + i])
            expected += (student - labels[i, k].item()) ** 2
    loss = losses.MarginMSELoss(fixed_model(emb))
    assert run(loss, fixed_features(4, BATCH), labels) == pytest.approx(expected / (2 * BATCH), abs=ATOL_HAND)


def _triplets(labels):
    n = len(labels)
    for a in range(n):
        for p in range(n):
            for q in range(n):
                if a != p and labels[a] == labels[p] and labels[q] != labels[a]:
                    yield a, p, q


def test_batch_triplet_losses_match_hand_computation():
    emb = table(6)
    labels = [0, 1, 0, 2, 1, 0]
    d = torch.cdist(emb, emb)
    margin = 0.3
    per_anchor = []
    for a in range(6):
        pos = [d[a, p].item() for p in range(6) if p != a and labels[p] == labels[a]]
        neg = [d[a, q].item() for q in range(6) if labels[q] != labels[a]]
        per_anchor.append(max(0.0, max(pos, default=0.0) - min(neg) + margin))
    model = fixed_model(emb)
    features = fixed_features(1, 6)
    hard = losses.BatchHardTripletLoss(model, margin=margin)
    assert run(hard, features, torch.tensor(labels)) == pytest.approx(sum(per_anchor) / 6, abs=1e-7)

    values = [max(0.0, d[a, p].item() - d[a, q].item() + margin) for a, p, q in _triplets(labels)]
    active = [v for v in values if v > 1e-16]
    every = losses.BatchAllTripletLoss(model, margin=margin)
    assert run(every, features, torch.tensor(labels)) == pytest.approx(sum(active) / len(active), abs=1e-7)


def test_matryoshka_is_weighted_sum_of_inner_loss_at_each_dim():
    emb = table(2 * BATCH, dim=8)
    model = fixed_model(emb)
    inner = losses.CoSENTLoss(model, similarity_fct=pairwise_cos_sim)
    loss = losses.MatryoshkaLoss(model, inner, matryoshka_dims=[4, 8, 2], matryoshka_weights=[0.5, 1.0, 2.0])
    labels = torch.tensor([0.1, 0.7, 0.4, 1.0], dtype=torch.float64)
    expected = 0.0
    for dim, weight in [(8, 1.0), (4, 0.5), (2, 2.0)]:
        scores = [cos(emb[i, :dim], emb[BATCH + i, :dim]) for i in range(BATCH)]
        expected += weight * _cosent_by_hand(scores, labels.tolist())
    assert run(loss, fixed_features(2, BATCH), labels) == pytest.approx(expected, abs=ATOL_HAND)


def test_matryoshka_truncates_and_normalizes_for_dot_product_losses():
    emb = table(2 * BATCH, dim=8)
    model = fixed_model(emb)
    loss = losses.MatryoshkaLoss(model, losses.MultipleNegativesRankingLoss(model, 1.0, dot_score), [8, 3])
    expected = 0.0
    for dim in (8, 3):
        a = nn.functional.normalize(emb[:BATCH, :dim], dim=-1)
        p = nn.functional.normalize(emb[BATCH:, :dim], dim=-1)
        logits = a @ p.T
        expected += float((torch.logsumexp(logits, 1) - logits.diagonal()).mean())
    assert run(loss, fixed_features(2, BATCH)) == pytest.approx(expected, abs=ATOL_HAND)


def test_matryoshka_runs_the_model_once_per_column():
    model = mean_model()
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    loss = losses.MatryoshkaLoss(model, losses.MultipleNegativesRankingLoss(model), [8, 4, 2])
    loss(random_features(3, BATCH), None)
    assert len(calls) == 3


class DirectCallLoss(nn.Module):
    """A user's loss that calls the model itself instead of the shared embedding function."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, sentence_features, labels):
        a, b = (self.model(f)["sentence_embedding"] for f in sentence_features)
        return nn.functional.mse_loss(nn.functional.cosine_similarity(a, b), labels)


def test_matryoshka_handles_losses_that_call_the_model_directly():
    emb = table(2 * BATCH, dim=8)
    model = fixed_model(emb)
    labels = torch.tensor([0.1, 0.7, 0.4, 1.0], dtype=torch.float64)
    loss = losses.MatryoshkaLoss(model, DirectCallLoss(model), [8, 4])
    expected = sum(
        sum((cos(emb[i, :d], emb[BATCH + i, :d]) - labels[i].item()) ** 2 for i in range(BATCH)) / BATCH
        for d in (8, 4)
    )
    for _ in range(2):  # the first call discovers the direct calls, the second starts patched
        assert run(loss, fixed_features(2, BATCH), labels) == pytest.approx(expected, abs=ATOL_HAND)
    assert "forward" not in vars(model)  # the patch is gone


# ---------------------------------------------------------------- against sentence-transformers

PAIR_LABELS = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
SCORE_LABELS = torch.tensor([0.2, 0.9, 0.5, 0.1, 0.7, 0.4])
CLASS_LABELS = torch.tensor([0, 1, 0, 1, 2, 2])
TEACHER = torch.randn(6, 8, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
MARGINS = torch.randn(6, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64)

OURS = SimpleNamespace(losses=losses, util=sentforge.similarity)
THEIRS = SimpleNamespace(losses=st_losses, util=st_util)


class PerLibrary:
    """An argument built separately for each library: ``fn(library, model)``."""

    def __init__(self, fn):
        self.fn = fn


def attr(path: str) -> PerLibrary:
    """The object at ``path`` (e.g. "losses.TripletDistanceMetric.COSINE") in each library."""
    return PerLibrary(lambda lib, model: functools.reduce(getattr, path.split("."), lib))


def inner(name: str) -> PerLibrary:
    """An inner loss for a wrapping loss, built on the same model."""
    return PerLibrary(lambda lib, model: getattr(lib.losses, name)(model))


def build(lib, name: str, model, kwargs: dict):
    resolved = {k: v.fn(lib, model) if isinstance(v, PerLibrary) else v for k, v in kwargs.items()}
    return getattr(lib.losses, name)(model, **resolved)


def case(name: str, num_columns: int, labels=None, **kwargs):
    return name, num_columns, labels, kwargs


CASES = {
    "mnrl": case("MultipleNegativesRankingLoss", 3),
    "mnrl_dot": case("MultipleNegativesRankingLoss", 2, scale=1.0, similarity_fct=attr("util.dot_score")),
    "mnrl_gte": case("MultipleNegativesRankingLoss", 3, directions=losses.ranking.DIRECTIONS),
    **{
        f"mnrl_hardness_{mode}": case("MultipleNegativesRankingLoss", 4, hardness_mode=mode, hardness_strength=5.0)
        for mode in ("in_batch_negatives", "hard_negatives", "all_negatives")
    },
    "mnsrl": case("MultipleNegativesSymmetricRankingLoss", 2),
    "cosine": case("CosineSimilarityLoss", 2, SCORE_LABELS),
    "mse": case("MSELoss", 2, TEACHER),
    "cosent": case("CoSENTLoss", 2, SCORE_LABELS),
    "angle": case("AnglELoss", 2, SCORE_LABELS),
    "angle_triplets": case("AnglELoss", 3),
    "contrastive": case("ContrastiveLoss", 2, PAIR_LABELS),
    "contrastive_euclid": case(
        "ContrastiveLoss",
        2,
        PAIR_LABELS,
        distance_metric=attr("losses.SiameseDistanceMetric.EUCLIDEAN"),
        margin=2.0,
        size_average=False,
    ),
    "online_contrastive": case(
        "OnlineContrastiveLoss",
        2,
        PAIR_LABELS,
        distance_metric=attr("losses.SiameseDistanceMetric.EUCLIDEAN"),
        margin=2.0,
    ),
    "triplet": case("TripletLoss", 3),
    "triplet_cosine": case(
        "TripletLoss", 3, distance_metric=attr("losses.TripletDistanceMetric.COSINE"), triplet_margin=0.5
    ),
    "margin_mse": case("MarginMSELoss", 4, MARGINS),
    "batch_hard": case("BatchHardTripletLoss", 1, CLASS_LABELS, margin=0.5),
    "batch_hard_cosine": case(
        "BatchHardTripletLoss",
        1,
        CLASS_LABELS,
        distance_metric=attr("losses.BatchHardTripletLossDistanceFunction.cosine_distance"),
        margin=0.2,
    ),
    "batch_all": case("BatchAllTripletLoss", 1, CLASS_LABELS, margin=0.5),
    "matryoshka_mnrl": case(
        "MatryoshkaLoss",
        3,
        loss=inner("MultipleNegativesRankingLoss"),
        matryoshka_dims=[8, 4, 2],
        matryoshka_weights=[1, 0.5, 0.25],
    ),
    "matryoshka_mse": case("MatryoshkaLoss", 2, TEACHER, loss=inner("MSELoss"), matryoshka_dims=[8, 4]),
}


@pytest.mark.filterwarnings("ignore:The MultipleNegativesSymmetricRankingLoss is deprecated")
@pytest.mark.parametrize("case_name", sorted(CASES))
def test_loss_value_equals_sentence_transformers(case_name):
    name, num_columns, labels, kwargs = CASES[case_name]
    features = random_features(num_columns, 6)
    model = mean_model().double()  # float64, so 1e-6 is far above rounding noise
    ours = build(OURS, name, model, kwargs)(copy_features(features), labels).item()
    theirs = build(THEIRS, name, model, kwargs)(copy_features(features), labels).item()
    assert ours == pytest.approx(theirs, abs=ATOL_ST)
    assert ours != 0.0  # a case where both give 0 would prove nothing


def test_softmax_loss_equals_sentence_transformers_with_same_classifier():
    model = mean_model().double()
    features = random_features(2, 6)
    labels = torch.tensor([0, 2, 1, 1, 0, 2])
    ours = losses.SoftmaxLoss(
        model, sentence_embedding_dimension=8, num_labels=3, concatenation_sent_multiplication=True
    )
    theirs = st_losses.SoftmaxLoss(model, embedding_dimension=8, num_labels=3, concatenation_sent_multiplication=True)
    theirs.classifier.load_state_dict(ours.classifier.state_dict())
    expected = theirs(copy_features(features), labels).item()
    assert ours(copy_features(features), labels).item() == pytest.approx(expected, abs=ATOL_ST)
    assert ours(copy_features(features), labels.float()).item() == pytest.approx(expected, abs=ATOL_ST)
