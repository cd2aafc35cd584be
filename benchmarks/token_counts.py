"""What the encoder computes: token counts seen by a model, analytic FLOPs of BERT-MiniLM, GEMM peak."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from common import median, minilm_path


@dataclass
class TokenCounts:
    """What the encoder saw: sentences, real and padded tokens, and the sums of squared lengths."""

    sentences: int = 0
    forwards: int = 0
    real_tokens: int = 0
    padded_tokens: int = 0
    real_sq: int = 0  # sum over sentences of length**2 (attention cost without padding)
    padded_sq: int = 0  # sum over sentences of padded_length**2

    def add(self, attention_mask) -> None:
        lengths = attention_mask.sum(dim=1).long()
        rows, width = attention_mask.shape
        self.sentences += int(rows)
        self.forwards += 1
        self.real_tokens += int(lengths.sum())
        self.padded_tokens += int(rows * width)
        self.real_sq += int((lengths * lengths).sum())
        self.padded_sq += int(rows * width * width)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def count_tokens(model) -> TokenCounts:
    """Attach a counter to the model's first (Transformer) module; works for both libraries."""
    counts = TokenCounts()

    def hook(_module, args, kwargs):
        features = args[0] if args else kwargs["features"]
        counts.add(features["attention_mask"])

    model[0].register_forward_pre_hook(hook, with_kwargs=True)
    return counts


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def of_minilm(cls) -> "EncoderShape":
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(minilm_path())
        return cls(config.num_hidden_layers, config.hidden_size, config.intermediate_size)

    @property
    def linear_params(self) -> int:
        """Weights of the per-token Linear layers (Q, K, V, O, FFN in and out), all layers."""
        return self.layers * (4 * self.hidden * self.hidden + 2 * self.hidden * self.intermediate)


def forward_flops(shape: EncoderShape, counts: dict[str, int], padded: bool) -> float:
    """Encoder forward FLOPs: 2 * linear params * tokens + attention 4 * hidden * length**2 per layer.

    Embedding look-ups, LayerNorm, GELU, softmax, pooling and the unused BERT pooler are left out
    (under 2% here). ``padded`` counts every padded position, as a padded forward executes them.
    """
    tokens = counts["padded_tokens"] if padded else counts["real_tokens"]
    squares = counts["padded_sq"] if padded else counts["real_sq"]
    return 2.0 * shape.linear_params * tokens + 4.0 * shape.hidden * shape.layers * squares


def gemm_peak_gflops(size: int = 2048, repeats: int = 5) -> tuple[float, float]:
    """(best, median) GFLOP/s of an fp32 ``size`` x ``size`` torch.matmul on this machine, now."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.matmul(a, b)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        rates.append(2.0 * size**3 / (time.perf_counter() - start) / 1e9)
    return max(rates), median(rates)
