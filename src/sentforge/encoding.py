"""The encode loop: length-sorted batches, restored order, truncation, normalisation, precision.

Memory stays bounded by the batch, not the number of texts: texts are tokenized a chunk at a
time (the tokenizer holds every text's full tokenization until its call returns), and sentence
embeddings go straight into one preallocated array. ``encode`` never changes the model's
train/eval mode (other threads may be using the model): it runs without dropout whatever the mode.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from .errors import SentforgeError
from .speed.fast_dropout import no_dropout
from .speed.packed_attention import frozen_weights
from .quantization import PRECISIONS, as_tensor, quantize_embeddings

# Texts tokenized per call: whole batches of the length-sorted texts, up to TOKENIZE_TEXTS texts and
# TOKENIZE_CHARS characters (always one batch at least). Big enough to amortise the call and to sort
# many short texts by token count; small enough that long texts never pile up in the tokenizer.
TOKENIZE_TEXTS = 4096
TOKENIZE_CHARS = 1 << 20
# Fast tokenizers refuse a settings change while another thread is inside them ("Already borrowed"),
# and a first call changes the truncation setting: one tokenizer call at a time.
_TOKENIZE_LOCK = threading.Lock()

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


def tokenize_chunks(lengths: np.ndarray, order: np.ndarray, batch_size: int) -> Iterator[np.ndarray]:
    """Consecutive whole batches of ``order`` (row indices), within the TOKENIZE_* limits."""
    start = 0
    while start < len(order):
        end = min(start + batch_size, len(order))
        chars = int(lengths[order[start:end]].sum())
        while end < len(order) and end - start + batch_size <= TOKENIZE_TEXTS:
            more = int(lengths[order[end : end + batch_size]].sum())
            if chars + more > TOKENIZE_CHARS:
                break
            chars, end = chars + more, min(end + batch_size, len(order))
        yield order[start:end]
        start = end


def batches(model: "SentenceTransformer", texts: list[str], prompt: str | None, batch_size: int):
    """``(row indices, features)`` per batch, longest texts first.

    When the first module can tokenize without padding (sentforge's Transformer), each chunk of
    character-sorted texts is tokenized in one call and its batches are formed by token count;
    otherwise each batch of texts (sorted by characters) goes through ``model.tokenize``.
    """
    first = model._first_module()
    order = length_order(texts)
    if not (hasattr(first, "tokenize_ids") and hasattr(first, "pad_ids")):
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            yield rows, _tokenize(model.tokenize, [(prompt or "") + texts[i] for i in rows])
        return
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    for chunk in tokenize_chunks(lengths, order, batch_size):
        chunk = np.sort(chunk)  # input order within the chunk: texts with equal token counts keep it
        ids = _tokenize(first.tokenize_ids, [(prompt or "") + texts[i] for i in chunk])
        by_tokens = np.argsort([-len(x) for x in ids], kind="stable")
        for start in range(0, len(chunk), batch_size):
            picked = by_tokens[start : start + batch_size]
            yield chunk[picked], first.pad_ids([ids[i] for i in picked])
        del ids  # before the next chunk is tokenized


def _tokenize(tokenizer: Callable[[list[str]], Any], texts: list[str]) -> Any:
    with _TOKENIZE_LOCK:
        return tokenizer(texts)


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
    collected = _Outputs(len(texts), output_value, truncate_dim, normalize_embeddings)
    try:
        with torch.inference_mode(), frozen_weights(), no_dropout(model):
            for rows, features in batches(model, texts, prompt, batch_size):
                features = {k: v.to(target) if isinstance(v, Tensor) else v for k, v in features.items()}
                if prompt_length:
                    features["prompt_length"] = prompt_length
                collected.add(rows, model.forward(features))
                if bar is not None:
                    bar.update(len(rows))
    finally:
        if bar is not None:
            bar.close()
    return collected.result(single, precision, convert_to_numpy, convert_to_tensor)


class _Outputs:
    """Per-text outputs in input order; sentence embeddings go into one preallocated float32 array."""

    def __init__(self, count: int, output_value: str | None, truncate_dim: int | None, normalize: bool) -> None:
        self.count = count
        self.output_value = output_value
        self.truncate_dim = truncate_dim
        self.normalize = normalize
        self.matrix: np.ndarray | None = None
        self.items: list[Any] | None = None if output_value == "sentence_embedding" else [None] * count

    def add(self, rows: np.ndarray, out: dict) -> None:
        """Store one batch's outputs at their texts' positions."""
        if self.items is not None:
            for index, row in zip(rows, _split_output(out, self.output_value, self.truncate_dim, self.normalize)):
                self.items[index] = row
            return
        values = _vectors(out["sentence_embedding"], self.truncate_dim, self.normalize)
        if self.matrix is None:
            self.matrix = np.empty((self.count, values.shape[-1]), dtype=np.float32)
        self.matrix[rows] = values.numpy()

    def result(self, single: bool, precision: str, to_numpy: bool, to_tensor: bool):
        """What ``encode`` returns for these outputs and conversion options."""
        if self.items is not None:
            return self.items[0] if single else self.items
        matrix = self.matrix
        if precision != "float32":
            quantized = quantize_embeddings(matrix, precision)
            result = as_tensor(quantized) if to_tensor else quantized
            return result[0] if single else (result if (to_tensor or to_numpy) else list(result))
        if to_tensor:
            stacked = torch.from_numpy(matrix)
            return stacked[0] if single else stacked
        if to_numpy:
            return matrix[0] if single else matrix
        rows = list(torch.from_numpy(matrix))
        return rows[0] if single else rows


def _vectors(values: Tensor, truncate_dim: int | None, normalize: bool) -> Tensor:
    """A batch of vectors, truncated and normalised as asked, as float32 on the CPU."""
    values = values.detach()
    if truncate_dim:
        values = values[..., :truncate_dim]
    if normalize:
        values = torch.nn.functional.normalize(values, p=2, dim=-1)
    return values.float().cpu()


def _split_output(out: dict, output_value: str | None, truncate_dim: int | None, normalize: bool) -> list:
    """Per-text outputs other than sentence embeddings: token embeddings, another output, or all (None)."""
    if output_value is None:
        rows = []
        for i in range(len(out["sentence_embedding"])):
            rows.append({k: v[i] for k, v in out.items() if isinstance(v, Tensor) and v.dim() > 0})
        return rows
    values = out[output_value]
    if output_value == "token_embeddings":
        mask = out["attention_mask"]
        return [emb[: int(m.sum())].float().cpu() for emb, m in zip(values, mask)]
    return list(_vectors(values, truncate_dim, normalize))


def _progress(total: int, show: bool | None):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Batches", unit="sentence")
