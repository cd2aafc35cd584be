"""Whether a checkpoint's weights fit the architecture its config describes.

transformers loads a checkpoint with missing weights (left random), unexpected ones (ignored) or
weights of another shape, and says so only in its loading report. A sentence embedding from such a
model is meaningless, so these are an error unless the caller opts in with ``MISMATCH_SWITCH``.
"""

from __future__ import annotations

import logging
from typing import Any

from torch import nn

from ..errors import SentforgeError
from ..speed.native_loading import MISMATCH_SWITCH

logger = logging.getLogger(__name__)

OPT_IN = f"model_kwargs={{'{MISMATCH_SWITCH}': True}} (model_args= for models.Transformer)"
TASK_HEAD_PREFIXES = (
    "cls.", "lm_head.", "pooler.", "classifier.", "pre_classifier.", "qa_outputs.", "score.", "predictions.",
    "sop_classifier.", "seq_relationship.", "vocab_transform.", "vocab_layer_norm.", "vocab_projector.",
    "discriminator_predictions.", "generator_predictions.", "generator_lm_head.", "decoder.", "mask_predictions.",
)
"""Weights of pretraining or task heads a checkpoint may hold beside the encoder; loading the encoder
alone leaves them out. Any other weight the architecture has no place for is an error."""


def check_weights(path: str, model: nn.Module, info: dict[str, Any], strict: bool) -> None:
    """Refuse a checkpoint whose weights do not match the model; with ``strict`` off, warn instead.

    Not counted: a missing pooler (sentence embeddings never use it) and weights of a task head
    outside the encoder (``cls.*``, ``lm_head.*``: a checkpoint saved with a head).
    """
    missing, unexpected = _weight_mismatch(model, info)
    resized = sorted(str(item[0] if isinstance(item, (tuple, list)) else item)
                     for item in info.get("mismatched_keys", ()))
    if not missing and not unexpected and not resized:
        return
    kinds = (("missing", missing), ("unexpected", unexpected), ("of another shape", resized))
    found = " and ".join(f"{len(keys)} {kind} ({_few(keys)})" for kind, keys in kinds if keys)
    if not strict:
        logger.warning("Loading %r although its weights do not match: %s. Missing weights and weights of "
                       "another shape are random; unexpected ones are not used.", path, found)
        return
    why = ("Missing weights would stay random and give meaningless embeddings." if missing else
           "Weights the architecture has no place for mean the file was saved from another model or config.")
    raise SentforgeError(
        f"The weights in {path!r} do not match its {type(model).__name__} architecture: {found}. {why} "
        "Re-save or re-download the model (and check that config.json belongs to these weights). To load it "
        f"anyway (e.g. to train those weights), pass {OPT_IN}."
    )


def _weight_mismatch(model: nn.Module, info: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Missing and unexpected weight names from transformers' loading info, less the harmless ones:
    a missing pooler, rebuilt position ids, and the task heads a pretrained checkpoint is saved with."""
    missing = sorted(k for k in info.get("missing_keys", ()) if not k.startswith("pooler."))
    unexpected = sorted(
        k for k in info.get("unexpected_keys", ())
        if not k.endswith(".position_ids") and not _is_task_head(k, model)
    )
    return missing, unexpected


def _is_task_head(key: str, model: nn.Module) -> bool:
    """A weight of a pretraining or task head outside the encoder (``cls.*``, ``lm_head.*``, ...)."""
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    name = key[len(prefix):] if key.startswith(prefix) else key
    return name.startswith(TASK_HEAD_PREFIXES)


def _few(keys: list[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown if len(keys) <= limit else f"{shown} and {len(keys) - limit} more"
