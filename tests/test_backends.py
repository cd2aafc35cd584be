"""Reduced-precision encode paths (sentforge.backends.quantize_model) against sentence-transformers."""

from __future__ import annotations


import numpy as np
import pytest
import torch
from torch import nn

from sentforge import SentenceTransformer
from sentforge.backends import quantize_model
from sentforge.errors import SentforgeError
from sentforge.speed.int8_linear import Int8Linear
from test_int8_linear import fake_quantized_linear

SENTENCES = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "the weather is lovely today",
    "he drove the car to the stadium",
    "money in the bank",
    "the river bank has green trees",
]


def _st_model(path: str, **kwargs):
    from sentence_transformers import SentenceTransformer as STModel

    return STModel(path, device="cpu", **kwargs)


def _linear_kinds(model: nn.Module) -> dict[str, str]:
    """Dotted name -> "float" (nn.Linear) or "int8" (sentforge's Int8Linear)."""
    kinds = {}
    for name, module in model.named_modules():
        if isinstance(module, Int8Linear):
            kinds[name] = "int8"
        elif isinstance(module, nn.Linear):
            kinds[name] = "float"
    return kinds


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def tiny(tiny_bert_dir) -> SentenceTransformer:
    return SentenceTransformer(tiny_bert_dir, device="cpu")


def test_int8_quantizes_every_linear_of_a_copy(tiny):
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    quantized = quantize_model(tiny, "int8")
    assert quantized is not tiny
    kinds = _linear_kinds(quantized)
    assert kinds and set(kinds.values()) == {"int8"}
    # the original keeps its float Linear layers and its weights
    assert set(_linear_kinds(tiny).values()) == {"float"}
    assert all(torch.equal(before[k], v) for k, v in tiny.state_dict().items())


class _FakeQuantizedLinear(nn.Module):
    """Reference arithmetic in float: int8 weights per row, uint8 inputs per call (tests/test_int8_linear.py)."""

    def __init__(self, linear: nn.Linear, reduce_range: bool) -> None:
        super().__init__()
        self.linear, self.reduce_range = linear, reduce_range

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fake_quantized_linear(x, self.linear, self.reduce_range)


def _fake_quantize_every_linear(model: nn.Module, reduce_range: bool) -> nn.Module:
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Linear:
                setattr(parent, name, _FakeQuantizedLinear(child, reduce_range))
    return model


def test_int8_matches_sentence_transformers_with_the_same_arithmetic(tiny, tiny_bert_dir):
    """Reference: sentence-transformers' model with each Linear doing the int8 arithmetic in float.

    One sentence per batch: each layer's input scale comes from its whole input, which with padding
    would include the padded positions in sentence-transformers' forward but not in ours.
    """
    quantized = quantize_model(tiny, "int8")
    reduce_range = next(m for m in quantized.modules() if isinstance(m, Int8Linear)).reduce_range
    reference_model = _fake_quantize_every_linear(_st_model(tiny_bert_dir), reduce_range)
    ours = quantized.encode(SENTENCES, batch_size=1)
    reference = reference_model.encode(SENTENCES, batch_size=1)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, reference, atol=1e-4)
    assert not np.allclose(ours, tiny.encode(SENTENCES, batch_size=1), atol=1e-4)


def test_int8_stays_close_to_float32(tiny):
    full = tiny.encode(SENTENCES)
    quantized = quantize_model(tiny, "int8").encode(SENTENCES)
    assert not np.array_equal(full, quantized)  # it really runs in int8
    assert _cosines(full, quantized).min() > 0.95


def test_keep_float_leaves_matching_layers_in_float32(tiny):
    quantized = quantize_model(tiny, "int8", keep_float=[r"layer\.\d+\.output\.dense$"])
    kinds = _linear_kinds(quantized)
    kept = {name for name, kind in kinds.items() if kind == "float"}
    assert kept and all(name.endswith("output.dense") and "attention" not in name for name in kept)
    assert any(kind == "int8" for kind in kinds.values())
    with pytest.raises(SentforgeError, match="keep_float"):
        quantize_model(tiny, "int8", keep_float=["."])


def test_int8_model_refuses_to_save(tiny, tmp_path):
    quantized = quantize_model(tiny, "int8")
    with pytest.raises(SentforgeError, match="float32 model"):
        quantized.save(str(tmp_path / "int8"))
    assert not (tmp_path / "int8").exists()


def test_bfloat16_matches_sentence_transformers_bfloat16(tiny, tiny_bert_dir):
    """Reference: sentence-transformers loading the same folder with model_kwargs dtype=bfloat16."""
    ours_model = quantize_model(tiny, "bfloat16")
    assert {p.dtype for p in ours_model.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in tiny.parameters()} == {torch.float32}
    ours = ours_model.encode(SENTENCES)
    reference = _st_model(tiny_bert_dir, model_kwargs={"dtype": torch.bfloat16}).encode(SENTENCES)
    assert ours.dtype == np.float32
    # same bf16 computation on both sides; a bf16 rounding step (2**-8 relative) of slack
    np.testing.assert_allclose(ours, np.asarray(reference, dtype=np.float32), atol=1e-2, rtol=1e-2)
    assert _cosines(ours, tiny.encode(SENTENCES)).min() > 0.99


def test_inplace_returns_the_same_model(tiny_bert_dir):
    model = SentenceTransformer(tiny_bert_dir, device="cpu")
    assert quantize_model(model, "int8", inplace=True) is model
    assert set(_linear_kinds(model).values()) == {"int8"}


def test_unknown_precision_names_the_choices(tiny):
    with pytest.raises(SentforgeError, match="int8, bfloat16"):
        quantize_model(tiny, "int4")


@pytest.mark.integration
def test_minilm_stsb_spearman_of_reduced_precision(minilm_path, shared_data):
    """On real data the reduced-precision paths keep STS-B quality close to float32."""
    from scipy.stats import spearmanr

    from sentforge.data.shared_sets import load_stsb

    pairs = load_stsb("test", root=shared_data).select(range(300))
    model = SentenceTransformer(minilm_path, device="cpu")

    def spearman(m) -> float:
        first = m.encode(pairs["sentence1"], batch_size=64)
        second = m.encode(pairs["sentence2"], batch_size=64)
        return float(spearmanr(_cosines(first, second), pairs["score"]).statistic)

    full = spearman(model)
    assert abs(spearman(quantize_model(model, "bfloat16")) - full) < 0.005
    # int8 here: -0.0007 (full test set at batch 32: -0.0032); torch's quantize_dynamic defaults: -0.0081
    assert abs(spearman(quantize_model(model, "int8")) - full) < 0.005


def test_int8_runs_the_transformers_forward_too(tiny):
    """With the packed forward off, the transformers model (built on demand) holds the same int8 layers."""
    quantized = quantize_model(tiny, "int8")
    packed = quantized.encode(SENTENCES, batch_size=1)
    encoder = quantized[0].auto_model
    assert isinstance(encoder.encoder.layer[0].attention.self.query, Int8Linear)
    quantized[0].fast_forward = False
    np.testing.assert_allclose(quantized.encode(SENTENCES, batch_size=1), packed, atol=1e-5)
