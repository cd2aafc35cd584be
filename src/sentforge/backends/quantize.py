"""Reduced-precision copies of a model for faster CPU encoding (inference only).

``int8``: torch dynamic quantization of every ``nn.Linear`` (weights int8 per tensor, activations
quantized per batch at run time), the same scheme as sentence-transformers' ONNX "avx512_vnni"
int8 export, without needing onnx. About 2x faster than float32 on CPUs with VNNI; STS-B
Spearman of all-MiniLM-L6-v2 drops by about 0.01.
``bfloat16``: all floating-point weights cast to bfloat16 (what
``SentenceTransformer(name, model_kwargs={"dtype": torch.bfloat16})`` loads). Fast only on CPUs
with AVX512-BF16 or AMX (there about 2.7x, Spearman unchanged); much slower elsewhere.
Embeddings come back as float32 either way.
"""

from __future__ import annotations

import copy
import re
import warnings
from typing import Any, Iterable

import torch
from torch import nn

from ..errors import SentforgeError

WEIGHT_PRECISIONS = ("int8", "bfloat16")


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


def _quantize_linear_int8(model: nn.Module, keep_float: list[re.Pattern]) -> None:
    try:
        from torch.ao.quantization import default_dynamic_qconfig, quantize_dynamic
    except ImportError:
        raise SentforgeError(
            f"This torch ({torch.__version__}) has no torch.ao.quantization.quantize_dynamic, which int8 needs. "
            "Use precision='bfloat16', or a torch version that still ships it (2.13 does)."
        ) from None
    names = [
        name
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and not any(pattern.search(name) for pattern in keep_float)
    ]
    if not names:
        raise SentforgeError(
            "No nn.Linear layer is left to quantize to int8 (none in the model, or keep_float matches all of "
            "them). Loosen keep_float, or use precision='bfloat16'."
        )
    with warnings.catch_warnings():
        # torch marks its eager quantization API deprecated; it still works and is what runs here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantize_dynamic(model, {name: default_dynamic_qconfig for name in names}, dtype=torch.qint8, inplace=True)


def _refuse_saving(model: nn.Module) -> None:
    """An int8 model's packed weights do not fit the safetensors folder format: say so instead of failing later."""

    def refuse(*_: Any, **__: Any) -> None:
        raise SentforgeError(
            "An int8-quantized model cannot be saved. Save the float32 model and call "
            "sentforge.backends.quantize_model(model, 'int8') again after loading it."
        )

    for name in ("save", "save_pretrained", "push_to_hub"):
        object.__setattr__(model, name, refuse)
