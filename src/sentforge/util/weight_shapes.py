"""Loading a checkpoint whose tensors have other shapes than its config's architecture asks for.

transformers refuses such a checkpoint with "You set `ignore_mismatched_sizes` to `False`... look at
the above report", a report its quiet loading never shows. ``from_pretrained_checked`` turns that into
one error naming the tensors and both shapes, and with ``allow_mismatch`` loads the checkpoint with
those tensors newly initialised (transformers' ``ignore_mismatched_sizes``).
"""

from __future__ import annotations

import glob
import os
from typing import Any

import torch

from ..errors import SentforgeError

_MISMATCH_WORDS = ("ignore_mismatched_sizes", "size mismatch")


def from_pretrained_checked(auto_class: Any, path: str, config: Any, allow_mismatch: bool, opt_in: str,
                            **kwargs: Any) -> tuple[Any, dict]:
    """``auto_class.from_pretrained(path, config=config, output_loading_info=True, **kwargs)``; a shape
    mismatch is a SentforgeError naming the tensors (``opt_in`` says how to load it anyway)."""
    try:
        return auto_class.from_pretrained(path, config=config, output_loading_info=True,
                                          ignore_mismatched_sizes=allow_mismatch, **kwargs)
    except RuntimeError as error:
        if not any(word in str(error) for word in _MISMATCH_WORDS):
            raise
        mismatched = shape_mismatches(auto_class, path, config)
        listed = "; ".join(mismatched[:3]) + (f"; and {len(mismatched) - 3} more" if len(mismatched) > 3 else "")
        raise SentforgeError(
            f"The weights in {path!r} do not fit the architecture its config.json describes: "
            f"{len(mismatched) or 'some'} tensor(s) have another shape ({listed or 'see transformers report'}). "
            "config.json probably belongs to other weights: re-save or re-download the model. To load it anyway "
            f"(those tensors then start random), pass {opt_in}."
        ) from None


def shape_mismatches(auto_class: Any, path: str, config: Any) -> list[str]:
    """'name: file (a, b), model (c, d)' for each tensor of the folder's safetensors files whose shape
    differs from the model ``config`` builds."""
    from safetensors import safe_open

    with torch.device("meta"):
        model = auto_class.from_config(config)
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    found = []
    for file in sorted(glob.glob(os.path.join(path, "*.safetensors"))):
        with safe_open(file, framework="pt") as handle:
            for key in handle.keys():
                name = _model_name(key, expected, prefix)
                shape = tuple(handle.get_slice(key).get_shape())
                if name is not None and expected[name] != shape:
                    found.append(f"{key}: file {shape}, model {expected[name]}")
    return found


def _model_name(key: str, expected: dict, prefix: str) -> str | None:
    """The model's name for a file key (with or without the base model's prefix), or None."""
    for candidate in (key, key[len(prefix):] if key.startswith(prefix) else None, prefix + key):
        if candidate is not None and candidate in expected:
            return candidate
    return None
