"""Run the data doctor with the base model's eyes: its token counts and its cosine of each pair."""

from __future__ import annotations

from typing import Any

import numpy as np

from .choose import loss_label_range
from .prepare import PreparedData
from ..data import CountTokens, DoctorReport, PairSimilarity, diagnose

DOCTOR_SAMPLE_ROWS = 500


def count_tokens_with(model: Any) -> CountTokens | None:
    """Token counts with the model's tokenizer, special tokens included and nothing cut off (through the
    Transformer module, which shares the run's token memo with training and the card, when it has one)."""
    first = model[0] if hasattr(model, "__getitem__") and len(model) else None
    if callable(getattr(first, "count_tokens", None)):
        return first.count_tokens
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        return None

    def count(texts: list[str]) -> list[int]:
        encoded = tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    return count


def pair_cosine_with(model: Any, batch_size: int = 32) -> PairSimilarity:
    """Cosine similarity of each pair ``(a[i], b[i])`` under the model (whatever its own similarity is)."""

    def similarity(first: list[str], second: list[str]) -> np.ndarray:
        options = {"batch_size": batch_size, "show_progress_bar": False, "normalize_embeddings": True}
        a = np.asarray(model.encode(list(first), **options))
        b = np.asarray(model.encode(list(second), **options))
        return (a * b).sum(axis=1)

    return similarity


def run_doctor(
    model: Any,
    data: PreparedData,
    loss: Any,
    *,
    batch_size: int,
    epochs: float,
    allow_inverted: bool = False,
    seed: int = 42,
) -> DoctorReport:
    """Check the prepared data for this loss; ``model`` None skips the checks that need the base model."""
    in_batch = getattr(loss, "uses_in_batch_negatives", None) if loss is not None else None
    return diagnose(
        data.train,
        data.eval,
        roles=data.roles,
        label_range=loss_label_range(loss) if loss is not None else None,
        in_batch_negatives=in_batch,
        max_seq_length=getattr(model, "max_seq_length", None) if model is not None else None,
        count_tokens=count_tokens_with(model) if model is not None else None,
        pair_similarity=pair_cosine_with(model, batch_size) if model is not None else None,
        batch_size=batch_size,
        epochs=epochs,
        has_evaluation=data.eval is not None,
        allow_inverted=allow_inverted,
        sample_size=DOCTOR_SAMPLE_ROWS,
        seed=seed,
        train_rows=data.train_rows,
        eval_rows=data.eval_rows,
    )
