"""Int8Linear: per-channel int8 weights, per-call uint8 inputs, against a float reference of the same scheme."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from sentforge.errors import SentforgeError
from sentforge.speed.int8_linear import Int8Linear, full_range_activations


def fake_quantized_linear(x: torch.Tensor, linear: nn.Linear, reduce_range: bool) -> torch.Tensor:
    """The same arithmetic in float: weights rounded per row to int8, inputs per tensor to uint8."""
    weight = linear.weight.detach()
    scales = (weight.abs().amax(dim=1, keepdim=True) / 127).clamp_min(1e-12)
    weight = (weight / scales).round().clamp(-127, 127) * scales
    levels = 127 if reduce_range else 255
    low, high = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = (high - low) / levels
    zero_point = round(-low / scale)
    x = ((x / scale).round() + zero_point).clamp(0, levels)
    x = (x - zero_point) * scale
    return x @ weight.t() + linear.bias.detach()


@pytest.fixture
def linear() -> nn.Linear:
    torch.manual_seed(0)
    layer = nn.Linear(64, 48)
    with torch.no_grad():
        layer.weight[3] *= 20  # one row with a much larger range: per-channel scales keep the others fine
    return layer


def test_matches_the_float_reference_of_the_same_scheme(linear):
    x = torch.randn(30, 64) * 3
    layer = Int8Linear.from_linear(linear)
    with torch.no_grad():
        ours = layer(x)
        reference = fake_quantized_linear(x, linear, layer.reduce_range)
        exact = linear(x)
    # same integers, float32 rounding apart (7.6e-6 seen); the 7-bit scheme would be ~1.7 off here
    assert (ours - reference).abs().max() < 1e-3
    assert (ours - exact).abs().max() > (ours - reference).abs().max()  # it really is quantized
    assert (ours - exact).abs().max() < 0.1 * exact.abs().max()


def test_full_range_inputs_do_not_overflow(linear):
    """The worst case for int16 pair sums: inputs at the top of the range times weights of +127."""
    with torch.no_grad():
        linear.weight.fill_(0.5)
        linear.weight[0] = -0.5
    x = torch.full((4, 64), 8.0)
    x[:, 0] = -1.0  # a small negative value so that the zero point stays near 0 and inputs near 255
    layer = Int8Linear.from_linear(linear)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), linear(x), rtol=0.02, atol=0.05)


def test_uses_all_eight_bits_only_where_int32_sums_are_available():
    assert Int8Linear.from_linear(nn.Linear(4, 4)).reduce_range is (not full_range_activations())


def test_stacked_layers_give_bit_identical_outputs():
    torch.manual_seed(1)
    parts = [nn.Linear(32, 32) for _ in range(3)]
    x = torch.randn(17, 32)
    with torch.no_grad():
        separate = torch.cat([Int8Linear.from_linear(m)(x) for m in parts], dim=-1)
        stacked = Int8Linear.stacked(parts)(x)
    assert torch.equal(separate, stacked)


def test_keeps_the_input_shape_and_dtype(linear):
    layer = Int8Linear.from_linear(linear)
    with torch.no_grad():
        out = layer(torch.randn(2, 5, 64, dtype=torch.bfloat16))
    assert out.shape == (2, 5, 48) and out.dtype == torch.bfloat16


def test_survives_deepcopy(linear):
    layer = Int8Linear.from_linear(linear)
    x = torch.randn(3, 64)
    with torch.no_grad():
        assert torch.equal(copy.deepcopy(layer)(x), layer(x))


def test_refuses_training(linear):
    layer = Int8Linear.from_linear(linear)
    with pytest.raises(SentforgeError, match="cannot be trained"):
        layer(torch.randn(2, 64, requires_grad=True))
