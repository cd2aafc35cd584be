"""The encode loop: length-sorted batches, restored order, truncation, normalisation, precision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from .errors import SentforgeError
from .modules.packed_forward import frozen_weights
from .quantization import PRECISIONS, as_tensor, quantize_embeddings

# Texts tokenized per call in encode: big enough to amortise the call, small enough for memory.
TOKENIZE_BLOCK = 16384

if TYPE_CHECKING:
    from .model import SentenceTransformer


def check_sentences(sentences: Any) -> tuple[list[str], bool]:
    """Return (list of texts, whether the input was one string); clear errors for anything else."""
    if isinstance(sentences, str):
        return [sentences], True
    if sentences is None:
        raise SentforgeError("encode() got None. Pass a string or a list of strings.")
    if isinstance(sentences, np.ndarray):
        sentences = sentences.tolist()
    try:
        texts = list(sentences)
    except TypeError:
        raise SentforgeError(
            f"encode() needs a string or a list of strings, got {type(sentences).__name__}."
        ) from None
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise SentforgeError(
                f"encode() item {i} is {type(text).__name__} ({text!r:.60}), not a string. "
                "Convert or drop non-text items (e.g. None or NaN from a data frame) before encoding."
            )
    return texts, False


def length_order(texts: list[str]) -> np.ndarray:
    """Indices that sort texts longest first (similar lengths share a batch: less padding)."""
    return np.argsort([-len(t) for t in texts], kind="stable")


def batches(model: "SentenceTransformer", texts: list[str], prompt: str | None, batch_size: int):
    """``(row indices, features)`` per batch, longest texts first.

    When the first module can tokenize without padding (sentforge's Transformer), each block of
    texts is tokenized in one call and batches are formed by token count; otherwise each batch
    of texts (sorted by characters) goes through ``model.tokenize``.
    """
    first = model._first_module()
    if not (hasattr(first, "tokenize_ids") and hasattr(first, "pad_ids")):
        order = length_order(texts)
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            yield rows, model.tokenize([(prompt or "") + texts[i] for i in rows])
        return
    for block_start in range(0, len(texts), TOKENIZE_BLOCK):
        block = texts[block_start : block_start + TOKENIZE_BLOCK]
        ids = first.tokenize_ids([prompt + t for t in block] if prompt else block)
        order = np.argsort([-len(x) for x in ids], kind="stable")
        for start in range(0, len(block), batch_size):
            rows = order[start : start + batch_size]
            yield rows + block_start, first.pad_ids([ids[i] for i in rows])


def encode(
    model: "SentenceTransformer",
    sentences: str | list[str],
    prompt_name: str | None = None,
    prompt: str | None = None,
    batch_size: int = 32,
    show_progress_bar: bool | None = None,
    output_value: str | None = "sentence_embedding",
    precision: str = "float32",
    convert_to_numpy: bool = True,
    convert_to_tensor: bool = False,
    device: str | None = None,
    normalize_embeddings: bool = False,
    truncate_dim: int | None = None,
    **kwargs: Any,
) -> np.ndarray | Tensor | list:
    """Embed texts; see ``SentenceTransformer.encode`` for the arguments."""
    texts, single = check_sentences(sentences)
    if precision not in PRECISIONS:
        raise SentforgeError(f"Unknown precision {precision!r}. Use one of: {', '.join(PRECISIONS)}.")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise SentforgeError(f"batch_size must be a positive integer, got {batch_size!r}.")
    prompt, prompt_length = model._resolve_prompt(prompt_name, prompt)
    truncate_dim = truncate_dim if truncate_dim is not None else model.truncate_dim
    if device is not None:
        model.to(device)
    target = model.device
    if convert_to_tensor:
        convert_to_numpy = False
    if not texts:
        dim = truncate_dim or model.get_sentence_embedding_dimension() or 0
        empty = np.zeros((0, dim), dtype=np.float32)
        return as_tensor(empty) if convert_to_tensor else (empty if convert_to_numpy else [])

    bar = _progress(len(texts), show_progress_bar)
    restored: list[Any] = [None] * len(texts)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), frozen_weights():
            for rows, features in batches(model, texts, prompt, batch_size):
                features = {k: v.to(target) if isinstance(v, Tensor) else v for k, v in features.items()}
                if prompt_length:
                    features["prompt_length"] = prompt_length
                out = model.forward(features)
                for index, row in zip(rows, _split_output(out, output_value, truncate_dim, normalize_embeddings)):
                    restored[index] = row
                if bar is not None:
                    bar.update(len(rows))
    finally:
        if bar is not None:
            bar.close()
        model.train(was_training)

    return _convert(restored, single, output_value, precision, convert_to_numpy, convert_to_tensor)


def _split_output(out: dict, output_value: str | None, truncate_dim: int | None, normalize: bool) -> list:
    if output_value is None:
        rows = []
        for i in range(len(out["sentence_embedding"])):
            rows.append({k: v[i] for k, v in out.items() if isinstance(v, Tensor) and v.dim() > 0})
        return rows
    values = out[output_value]
    if output_value == "token_embeddings":
        mask = out["attention_mask"]
        return [emb[: int(m.sum())].float().cpu() for emb, m in zip(values, mask)]
    values = values.detach()
    if truncate_dim:
        values = values[..., :truncate_dim]
    if normalize:
        values = torch.nn.functional.normalize(values, p=2, dim=-1)
    return list(values.float().cpu())


def _convert(rows: list, single: bool, output_value, precision, to_numpy: bool, to_tensor: bool):
    if output_value != "sentence_embedding":
        return rows[0] if single else rows
    stacked = torch.stack(rows) if rows else torch.zeros(0)
    if precision != "float32":
        quantized = quantize_embeddings(stacked, precision)
        result = as_tensor(quantized) if to_tensor else quantized
        return result[0] if single else (result if (to_tensor or to_numpy) else list(result))
    if to_tensor:
        return stacked[0] if single else stacked
    if to_numpy:
        array = stacked.numpy()
        return array[0] if single else array
    return rows[0] if single else rows


def _progress(total: int, show: bool | None):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Batches", unit="sentence")
