"""Reduced-precision copies of a model for faster CPU encoding (inference only).

``int8``: every ``nn.Linear`` becomes an ``Int8Linear`` (weights int8 per output channel,
inputs quantized per call, full 8 bits on CPUs with AVX512-VNNI; attention Q/K/V in one stacked
product). About 2x faster than float32 on CPUs with VNNI; STS-B Spearman of all-MiniLM-L6-v2
about 0.003 below float32 (torch's ``quantize_dynamic`` defaults: about 0.0125 below).
``bfloat16``: all floating-point weights cast to bfloat16 (what
``SentenceTransformer(name, model_kwargs={"dtype": torch.bfloat16})`` loads). Fast only on CPUs
with AVX512-BF16 or AMX (there about 2.7x, Spearman unchanged); much slower elsewhere.
Embeddings come back as float32 either way.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Iterable

import torch
from torch import nn

from ..errors import SentforgeError
from ..speed.int8_linear import Int8Linear, ProjectionStack

WEIGHT_PRECISIONS = ("int8", "bfloat16")
_PROJECTION_NAMES = (("query", "key", "value"), ("q", "k", "v"))


def quantize_model(
    model: nn.Module, precision: str = "int8", inplace: bool = False, keep_float: Iterable[str] = ()
) -> nn.Module:
    r"""A copy of ``model`` (or ``model`` itself when ``inplace``) whose encode runs in ``precision``.

    ``keep_float``: regular expressions searched in the dotted module names; matching Linear layers
    stay float32 under int8 (e.g. ``r"layer\.\d+\.output\.dense$"``, BERT's feed-forward output
    projection, whose GELU inputs carry most of the int8 error). The result encodes like the
    original (``encode``, ``similarity``...). It cannot be trained, and an int8 model cannot be
    saved: keep the float32 model for both.
    """
    if precision not in WEIGHT_PRECISIONS:
        raise SentforgeError(
            f"Unknown weight precision {precision!r}. Use one of: {', '.join(WEIGHT_PRECISIONS)} "
            "(for int8/binary embeddings instead, pass encode(..., precision='int8'))."
        )
    target = model if inplace else copy.deepcopy(model)
    target.eval()
    if precision == "bfloat16":
        return target.to(torch.bfloat16)
    _check_cpu(target)
    _check_int8_kernels()
    _quantize_linear_int8(target, [re.compile(pattern) for pattern in keep_float])
    _refuse_saving(target)
    return target


def _check_cpu(model: nn.Module) -> None:
    devices = {p.device.type for p in model.parameters()}
    if devices - {"cpu"}:
        raise SentforgeError(
            f"int8 dynamic quantization runs on CPU only, but the model is on {sorted(devices)}. Move it first "
            "with model.to('cpu'), or use precision='bfloat16' on an accelerator."
        )


def _check_int8_kernels() -> None:
    engines = getattr(torch.backends.quantized, "supported_engines", [])
    if not {"fbgemm", "x86"} & set(engines):
        raise SentforgeError(
            f"This torch ({torch.__version__}) has no x86 int8 kernels (quantized engines: {engines}), which int8 "
            "needs. Use precision='bfloat16', or a torch build for x86 CPUs."
        )


def _quantize_linear_int8(model: nn.Module, keep_float: list[re.Pattern]) -> None:
    def kept(name: str) -> bool:
        return any(pattern.search(name) for pattern in keep_float)

    targets = [
        (parent, child_name, f"{parent_name}.{child_name}" if parent_name else child_name)
        for parent_name, parent in model.named_modules()
        for child_name, child in parent.named_children()
        if type(child) is nn.Linear
    ]
    targets = [(parent, child_name) for parent, child_name, name in targets if not kept(name)]
    if not targets:
        raise SentforgeError(
            "No nn.Linear layer is left to quantize to int8 (none in the model, or keep_float matches all of "
            "them). Loosen keep_float, or use precision='bfloat16'."
        )
    stacks = _projection_stacks(model, {id(getattr(parent, name)) for parent, name in targets})
    converted: dict[int, Int8Linear] = {}
    for parent, child_name in targets:
        child = getattr(parent, child_name)
        converted[id(child)] = Int8Linear.from_linear(child)
        setattr(parent, child_name, converted[id(child)])
    for floats, stacked in stacks:
        parts = tuple(converted[id(m)] for m in floats)
        parts[0].stack = ProjectionStack(parts, stacked)


def _projection_stacks(model: nn.Module, quantized: set[int]) -> list[tuple[tuple[nn.Linear, ...], Int8Linear]]:
    """Attention Q/K/V triples (BERT's query/key/value, MPNet's q/k/v) that all go to int8, stacked."""
    stacks = []
    for module in model.modules():
        for names in _PROJECTION_NAMES:
            parts = tuple(getattr(module, name, None) for name in names)
            if all(part is not None and id(part) in quantized for part in parts):
                stacks.append((parts, Int8Linear.stacked(parts)))
    return stacks


def _refuse_saving(model: nn.Module) -> None:
    """An int8 model's packed weights do not fit the safetensors folder format: say so instead of failing later."""

    def refuse(*_: Any, **__: Any) -> None:
        raise SentforgeError(
            "An int8-quantized model cannot be saved. Save the float32 model and call "
            "sentforge.backends.quantize_model(model, 'int8') again after loading it."
        )

    for name in ("save", "save_pretrained", "push_to_hub"):
        object.__setattr__(model, name, refuse)
