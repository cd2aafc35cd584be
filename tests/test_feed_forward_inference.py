"""The feed-forward block in inference: exact GELU in place on the first Linear's output.

Reference: BertIntermediate then BertOutput, called as the Hugging Face modules (separate ops).
Tolerance 1e-6 max abs difference (the residual sum adds in another order; GELU is bit for bit).
"""

from __future__ import annotations

from unittest import mock

import torch
from transformers import BertConfig
from transformers.models.bert.modeling_bert import BertIntermediate, BertOutput

from sentforge.speed.feed_forward import feed_forward

TOL = 1e-6


def _block(hidden_act: str = "gelu"):
    torch.manual_seed(0)
    config = BertConfig(hidden_size=16, intermediate_size=64, hidden_act=hidden_act, hidden_dropout_prob=0.1)
    return BertIntermediate(config).eval(), BertOutput(config).eval(), torch.randn(37, 16)


def _reference(intermediate, output, hidden):
    with torch.no_grad():
        return output(intermediate(hidden), hidden)


def test_inference_gelu_runs_in_place_with_the_same_values():
    intermediate, output, hidden = _block()
    expected = _reference(intermediate, output, hidden)
    gelu_in_place = mock.Mock(wraps=torch._C._nn.gelu_)
    with torch.inference_mode(), mock.patch.object(torch._C._nn, "gelu_", gelu_in_place):
        got = feed_forward(intermediate, output, hidden.clone())
    assert gelu_in_place.call_count == 1
    assert gelu_in_place.call_args.args[0].shape == (37, 64)
    assert (got - expected).abs().max().item() < TOL


def test_other_activations_and_training_keep_the_modules_forward():
    tanh_intermediate, tanh_output, hidden = _block("gelu_new")
    intermediate, output, _ = _block()
    gelu_in_place = mock.Mock(wraps=torch._C._nn.gelu_)
    with mock.patch.object(torch._C._nn, "gelu_", gelu_in_place):
        with torch.no_grad():
            tanh_got = feed_forward(tanh_intermediate, tanh_output, hidden.clone())
        trained = feed_forward(intermediate, output, hidden.clone())
    assert gelu_in_place.call_count == 0
    assert (tanh_got - _reference(tanh_intermediate, tanh_output, hidden)).abs().max().item() < TOL
    assert (trained.detach() - _reference(intermediate, output, hidden)).abs().max().item() < TOL
    assert trained.requires_grad
