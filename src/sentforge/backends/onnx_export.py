"""Export a model's Transformer module to ONNX (torch.onnx), and an int8 dynamically quantized copy of it.

The ONNX graph is the encoder alone: token ids, attention mask (and token types for BERT) in,
``last_hidden_state`` out, batch and sequence dimensions dynamic. Pooling and Normalize stay in torch,
as in sentence-transformers' ONNX backend. Files go where sentence-transformers puts them:
``<model folder>/onnx/model.onnx`` and ``onnx/model_qint8_<config>.onnx``.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import SentforgeError

logger = logging.getLogger(__name__)
ONNX_FOLDER = "onnx"
ONNX_FILE = "model.onnx"
OPSET = 17
QUANTIZATION_CONFIGS = ("arm64", "avx2", "avx512", "avx512_vnni")
OPTIMIZATION_LEVELS = {"O1": 1, "O2": 2, "O3": 2}
"""onnxruntime's graph optimization level per sentence-transformers/optimum name (O3 adds approximate GELU)."""


class _LastHiddenState(nn.Module):
    """The encoder as a function of tensors only (what torch.onnx traces)."""

    def __init__(self, encoder: nn.Module, token_types: bool) -> None:
        super().__init__()
        self.encoder = encoder
        self.token_types = token_types

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        extra = {"token_type_ids": rest[0]} if self.token_types else {}
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra, return_dict=True).last_hidden_state


def input_names(transformer: nn.Module) -> list[str]:
    """The graph's inputs for this Transformer module's encoder."""
    config = transformer.auto_model.config
    token_types = getattr(config, "type_vocab_size", 0) > 0 and config.model_type != "mpnet"
    return ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])


def export_onnx(transformer: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``transformer``'s encoder as ONNX to ``path`` (atomically); return the path."""
    _require("onnx", "export models to ONNX")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = input_names(transformer)
    encoder = transformer.auto_model  # transformers' model (built from the native one if needed)
    wrapper = _LastHiddenState(encoder, "token_type_ids" in names).eval()
    example = transformer.tokenize(["an example sentence for the export", "a second one"])
    inputs = tuple(example[name] for name in names)
    axes = {name: {0: "batch", 1: "sequence"} for name in [*names, "last_hidden_state"]}
    staging = path.with_name(f".{path.name}.partial")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about Python bools in transformers' mask code
        torch.onnx.export(wrapper, inputs, str(staging), input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    os.replace(staging, path)
    logger.info("Exported the encoder to ONNX: %s", path)
    return path


def export_dynamic_quantized_onnx_model(
    model: Any,
    quantization_config: str,
    model_name_or_path: str,
    push_to_hub: bool = False,
    create_pr: bool = False,
    file_suffix: str | None = None,
) -> Path:
    """Write ``onnx/model_qint8_<config>.onnx``: the model's ONNX encoder with int8 weights (onnxruntime's
    dynamic quantization), as sentence-transformers' function of the same name. ``model`` is loaded with
    ``backend="onnx"`` (or with torch: the fp32 graph is exported first)."""
    if push_to_hub or create_pr:
        raise SentforgeError("Export to a local model folder, then upload it with model.push_to_hub(...).")
    if quantization_config not in QUANTIZATION_CONFIGS:
        raise SentforgeError(f"quantization_config must be one of {', '.join(QUANTIZATION_CONFIGS)}; "
                             f"got {quantization_config!r}.")
    _require("onnxruntime", "quantize ONNX models")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder = Path(model_name_or_path) / ONNX_FOLDER
    source = _fp32_graph(model, folder)
    target = folder / f"model_qint8_{file_suffix or quantization_config}.onnx"
    staging = target.with_name(f".{target.name}.partial")
    quantize_dynamic(str(source), str(staging), weight_type=QuantType.QInt8, per_channel=True,
                     reduce_range=quantization_config == "avx2")
    os.replace(staging, target)
    return target


def export_optimized_onnx_model(
    model: Any,
    optimization_config: str,
    model_name_or_path: str,
    push_to_hub: bool = False,
    create_pr: bool = False,
    file_suffix: str | None = None,
) -> Path:
    """Write ``onnx/model_<config>.onnx``: the ONNX encoder after onnxruntime's transformer graph optimizer
    (O1 basic rewrites; O2 also fuses attention, LayerNorm and GELU; O3 also approximates GELU), as
    sentence-transformers' function of the same name. O4 (fp16) needs a GPU and is refused here."""
    if push_to_hub or create_pr:
        raise SentforgeError("Export to a local model folder, then upload it with model.push_to_hub(...).")
    if optimization_config not in OPTIMIZATION_LEVELS:
        raise SentforgeError(f"optimization_config must be one of {', '.join(OPTIMIZATION_LEVELS)} here (O4 is "
                             f"fp16 for GPUs); got {optimization_config!r}.")
    _require("onnxruntime", "optimize ONNX models")
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    folder = Path(model_name_or_path) / ONNX_FOLDER
    source = _fp32_graph(model, folder)
    config = model[0].auto_model.config
    kind = "bert"  # the fusions look for BERT-shaped subgraphs; MPNet keeps its attention unfused (relative bias)
    options = FusionOptions(kind)
    options.enable_gelu_approximation = optimization_config == "O3"
    optimized = optimize_model(str(source), model_type=kind, num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, optimization_options=options,
                               opt_level=OPTIMIZATION_LEVELS[optimization_config])
    target = folder / f"model_{file_suffix or optimization_config}.onnx"
    staging = target.with_name(f".{target.name}.partial")
    optimized.save_model_to_file(str(staging))
    os.replace(staging, target)
    return target


def _fp32_graph(model: Any, folder: Path) -> Path:
    session = getattr(model[0], "onnx", None)
    if session is not None and session.path.name == ONNX_FILE:
        return Path(session.path)
    path = folder / ONNX_FILE
    if not path.exists():
        export_onnx(model[0], path)
    return path


def _require(package: str, what: str) -> None:
    try:
        __import__(package)
    except ImportError:
        raise SentforgeError(f"To {what}, install {package}: pip install \"sentforge[onnx]\".") from None
