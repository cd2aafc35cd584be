"""Load a model for a command, and shape a base model as a plan asks (max length, Normalize)."""

from __future__ import annotations

from typing import Any

from ..errors import SentforgeError

DEFAULT_BASE = "all-MiniLM-L6-v2"
"""The base model when none is named: small, fast on a CPU, and packaged for offline use."""


def load_model(name: str, device: str | None = None, **options: Any) -> Any:
    """A SentenceTransformer from a folder, a packaged model or a hub id (``options``: more constructor
    arguments, e.g. ``backend``); one clear error otherwise."""
    from .. import SentenceTransformer

    try:
        return SentenceTransformer(name, device=device, **options)
    except SentforgeError:
        raise
    except (OSError, ValueError, KeyError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise SentforgeError(
            f"Could not load the model '{name}': {reason}. Pass a model folder saved by sentforge or "
            "sentence-transformers, or a model id such as all-MiniLM-L6-v2."
        ) from None


def shape_model(model: Any, max_seq_length: int | None, normalize: bool | None) -> list[str]:
    """Apply a maximum sequence length and add or remove the final Normalize; returns what changed."""
    from ..models import Normalize

    notes = []
    if max_seq_length is not None and max_seq_length != model.max_seq_length:
        limit = _position_limit(model)
        if limit is not None and max_seq_length > limit:
            raise SentforgeError(
                f"--max-seq-length {max_seq_length} is more than the model can read ({limit} tokens). "
                f"Use at most {limit}."
            )
        notes.append(f"max_seq_length set to {max_seq_length} tokens (the model had {model.max_seq_length}).")
        model.max_seq_length = max_seq_length
    has_normalize = any(isinstance(module, Normalize) for module in model)
    if normalize and not has_normalize:
        model.append(Normalize())
        notes.append("Added a Normalize module: embeddings have length 1, so dot product equals cosine.")
    elif normalize is False and has_normalize:
        for index in [i for i, module in enumerate(model) if isinstance(module, Normalize)][::-1]:
            del model[index]
        notes.append("Removed the Normalize module, as the recipe asks.")
    return notes


def _position_limit(model: Any) -> int | None:
    auto_model = getattr(model[0], "auto_model", None)
    config = getattr(auto_model, "config", None)
    limit = getattr(config, "max_position_embeddings", None)
    if limit is None:
        return None
    # RoBERTa/MPNet-style models reserve two positions for the padding offset.
    return limit - 2 if getattr(config, "model_type", "") in ("roberta", "mpnet", "xlm-roberta") else limit
