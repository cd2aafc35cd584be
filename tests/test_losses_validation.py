"""validate_loss_inputs: each kind of bad data raises SentforgeError with a fix; good data passes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_losses_fakes import mean_model
from torch import nn

from sentforge import losses
from sentforge.errors import SentforgeError
from sentforge.losses import validate_loss_inputs

MODEL = mean_model(dim=8)


def raises(match: str, loss, columns, labels, batch_size=2, **kwargs):
    with pytest.raises(SentforgeError, match=match):
        validate_loss_inputs(loss, columns, labels, batch_size, **kwargs)


def test_good_data_passes():
    validate_loss_inputs(losses.CosineSimilarityLoss(MODEL), ["s1", "s2", "score"], [0.0, 0.5, 1.0], 2)
    validate_loss_inputs(losses.CoSENTLoss(MODEL), ["s1", "s2"], np.array([0.0, 3.5, 5.0]), 2)
    validate_loss_inputs(losses.ContrastiveLoss(MODEL), ["a", "b", "label"], torch.tensor([0, 1, 1]), 2)
    validate_loss_inputs(losses.MultipleNegativesRankingLoss(MODEL), ["q", "p", "n"], None, 16, num_rows=100)
    validate_loss_inputs(losses.MSELoss(MODEL), ["en", "de"], np.zeros((3, 8)).tolist(), 2)
    validate_loss_inputs(losses.SoftmaxLoss(MODEL, 8, 3), ["p", "h", "label"], [0, 2, 1.0], 2)
    validate_loss_inputs(losses.AnglELoss(MODEL), ["a", "p", "n"], None, 2)
    validate_loss_inputs(losses.MarginMSELoss(MODEL), ["q", "p", "n1", "n2"], [[1.0, 0.5], [0.2, 0.1]], 2)
    validate_loss_inputs(losses.MatryoshkaLoss(MODEL, losses.MSELoss(MODEL), [8, 4]), ["t"], [[0.0] * 8], 1)


def test_missing_label_column():
    raises("needs a label column", losses.CosineSimilarityLoss(MODEL), ["s1", "s2"], None)
    raises("needs a label column", losses.AnglELoss(MODEL), ["s1", "s2"], None)
    wrapped = losses.MatryoshkaLoss(MODEL, losses.CoSENTLoss(MODEL), [8, 4])
    raises("needs a label column", wrapped, ["s1", "s2"], None)


def test_label_outside_the_loss_range():
    raises(r"needs labels 0 \(dissimilar\) or 1", losses.ContrastiveLoss(MODEL), ["a", "b"], [0, 1, 7])
    raises(r"needs labels 0 \(dissimilar\) or 1", losses.OnlineContrastiveLoss(MODEL), ["a", "b"], [0, 0.5, 1])
    raises(r"in \[-1.0, 1.0\].*divide them by 5", losses.CosineSimilarityLoss(MODEL), ["a", "b"], [0.0, 2.5, 5.0])
    raises(r"in \[0, 2\]", losses.SoftmaxLoss(MODEL, 8, 3), ["a", "b"], [0, 1, 3])
    raises("integer class ids", losses.SoftmaxLoss(MODEL, 8, 3), ["a", "b"], [0, 1.5])


@pytest.mark.parametrize("bad", [math.nan, float("inf"), None, "0.7"])
def test_nan_missing_or_text_labels(bad):
    labels = [0.1, bad, 0.3]
    raises("row 1", losses.CoSENTLoss(MODEL), ["a", "b"], labels)


def test_nan_in_teacher_embeddings_and_in_labels_of_undeclared_losses():
    vectors = np.zeros((3, 8))
    vectors[2, 5] = np.nan
    raises("NaN or infinite .first at row 2", losses.MSELoss(MODEL), ["text"], vectors)
    raises("NaN", nn.MSELoss(), ["a", "b"], [1.0, math.nan])
    validate_loss_inputs(nn.MSELoss(), ["a", "b"], [[1.0, 2.0], [3.0]], 2)  # undeclared: no shape rules


def test_too_few_or_too_many_text_columns():
    raises("at least 2 text column", losses.MultipleNegativesRankingLoss(MODEL), ["anchor", "label"], None)
    raises("at least 3 text column", losses.TripletLoss(MODEL), ["anchor", "positive"], None)
    raises("exactly 2 text column", losses.CosineSimilarityLoss(MODEL), ["a", "b", "c", "score"], [0.5])


def test_fewer_rows_than_one_batch_for_in_batch_negatives():
    raises("only 5 row", losses.MultipleNegativesRankingLoss(MODEL), ["q", "p"], None, 16, num_rows=5)
    raises("only 3 row", losses.CachedMultipleNegativesRankingLoss(MODEL), ["q", "p"], [1, 2, 3], 8)
    raises("no negatives at all", losses.MultipleNegativesRankingLoss(MODEL), ["q", "p"], None, 1, num_rows=9)
    # Losses without in-batch negatives train on any number of rows.
    validate_loss_inputs(losses.CosineSimilarityLoss(MODEL), ["a", "b"], [0.5, 0.2], 16)


def test_label_shapes_for_vector_labels():
    raises("have 6 dimensions but the model outputs 8", losses.MSELoss(MODEL), ["t"], np.zeros((2, 6)))
    raises("teacher embedding", losses.MSELoss(MODEL), ["t"], [[0.0] * 8, [0.0] * 7])
    raises("needs per row 2 teacher margin", losses.MarginMSELoss(MODEL), ["q", "p", "n1", "n2"], [0.5, 0.2])


def test_label_count_must_match_row_count():
    raises("2 labels for 3 rows", losses.CoSENTLoss(MODEL), ["a", "b"], [0.1, 0.2], num_rows=3)
