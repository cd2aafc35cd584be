"""CrossEncoder.predict: batched scoring of text pairs without gradients and without dropout.

Pairs are scored longest first (less padding per batch) and returned in input order. The model's
train/eval mode is never touched: dropout is switched off for this thread only
(``fast_dropout.no_dropout``), so predicting in the middle of training, or from several threads,
changes nothing for anyone else.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from ..speed.fast_dropout import no_dropout
from ..speed.packed_attention import frozen_weights

logger = logging.getLogger(__name__)


def is_single_pair(inputs: Any) -> bool:
    """One (text, text) pair rather than a list of them (as sentence-transformers decides)."""
    list_types = (list, tuple)
    if isinstance(inputs, np.ndarray) and inputs.dtype.kind in ("U", "O"):
        return inputs.size > 0 and inputs.ndim < 2
    if isinstance(inputs, list_types):
        return len(inputs) > 0 and not isinstance(inputs[0], list_types)
    return not hasattr(inputs, "__iter__") or isinstance(inputs, str)


def predict_scores(model, inputs: Any, *, prompt: str | None, batch_size: int, show_progress_bar: bool | None,
                   activation_fn: Callable | None, apply_softmax: bool | None, convert_to_numpy: bool,
                   convert_to_tensor: bool):
    """Scores of ``inputs`` in sentence-transformers' output types (numpy, tensor or list of tensors)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
    single = is_single_pair(inputs)
    if single:
        inputs = [list(inputs.tolist()) if isinstance(inputs, np.ndarray) else inputs]
    else:
        inputs = [list(pair) if isinstance(pair, np.ndarray) else pair for pair in inputs]
    if show_progress_bar is None:
        show_progress_bar = logger.getEffectiveLevel() <= logging.INFO
    scores = _scores(model, inputs, prompt, batch_size, show_progress_bar, activation_fn, apply_softmax)
    if convert_to_tensor:
        result = scores if len(inputs) else torch.tensor([], device=model.device)
    elif convert_to_numpy:
        result = scores.float().cpu().numpy() if len(inputs) else np.array([])
    else:
        result = list(scores)
    return result[0] if single else result


def _scores(model, inputs: list, prompt: str | None, batch_size: int, show_progress_bar: bool,
            activation_fn: Callable | None, apply_softmax: bool | None) -> torch.Tensor:
    order = np.argsort([-sum(len(str(text)) for text in pair) for pair in inputs], kind="stable")
    batches = []
    with torch.inference_mode(), frozen_weights(), no_dropout(model):
        for start in tqdm(range(0, len(inputs), batch_size), desc="Batches", disable=not show_progress_bar):
            batch = [inputs[i] for i in order[start : start + batch_size]]
            logits = model.pair_logits(batch, prompt=prompt)
            if torch.is_floating_point(logits) and torch.finfo(logits.dtype).bits < 32:
                logits = logits.float()
            if activation_fn is not None:
                logits = activation_fn(logits)
            if model.num_labels == 1 and logits.ndim > 1:
                logits = logits.squeeze(-1)
            if apply_softmax and logits.ndim > 1:
                logits = torch.nn.functional.softmax(logits, dim=1)
            batches.append(logits)
    if not batches:
        return torch.tensor([], device=model.device)
    scores = torch.cat(batches)
    return scores[torch.from_numpy(np.argsort(order, kind="stable")).to(scores.device)]
