"""What each Ray actor runs: one model loaded per actor, a batch of rows in, ids and embeddings out."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SentforgeError

ID_COLUMN = "id"
EMBEDDING_COLUMN = "embedding"
# int8/uint8 take their per-dimension ranges from the whole corpus, so actors return float32 for them.
BATCH_PRECISIONS = ("float32", "binary", "ubinary")


class BatchEmbedder:
    """Callable class for ``Dataset.map_batches``: loads the model once, then embeds pyarrow batches."""

    def __init__(self, model: str, id_column: str, text_column: str, batch_size: int = 32,
                 normalize: bool = False, precision: str = "float32", device: str | None = None) -> None:
        from ..pipeline.models import load_model

        # A model that cannot load fails the first batch: Ray reports a batch's error once, but retries
        # (and logs) a failed actor start many times before giving up.
        self.model, self.load_error = None, None
        try:
            self.model = load_model(model, device=device)
        except SentforgeError as err:
            self.load_error = str(err)
        self.id_column = id_column
        self.text_column = text_column
        self.batch_size = batch_size
        self.normalize = normalize
        self.precision = precision if precision in BATCH_PRECISIONS else "float32"

    def __call__(self, batch: Any) -> Any:
        """A pyarrow table with the batch's ids and their embeddings (one list per row)."""
        if self.load_error is not None:
            raise SentforgeError(self.load_error)
        ids = batch.column(self.id_column).combine_chunks()
        texts = batch.column(self.text_column).to_pylist()
        _refuse_missing(ids, texts, self.text_column)
        matrix = np.asarray(self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=self.normalize, precision=self.precision,
            show_progress_bar=False, convert_to_numpy=True))
        return embedding_table(ids, matrix)


def embedding_table(ids: Any, matrix: np.ndarray) -> Any:
    """A pyarrow table: ``id`` and ``embedding`` (a list of the matrix's dtype per row)."""
    import pyarrow as pa

    rows, width = matrix.shape
    offsets = pa.array(np.arange(0, rows * width + 1, width, dtype=np.int32))
    vectors = pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(matrix).reshape(-1)))
    return pa.table({ID_COLUMN: ids, EMBEDDING_COLUMN: vectors})


def matrix_of(table: Any) -> np.ndarray:
    """The ``embedding`` column of a table as a (rows, dimension) array."""
    column = table.column(EMBEDDING_COLUMN).combine_chunks()
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(column), -1) if len(column) else values.reshape(0, 0)


def batch_ranges(table: Any) -> dict[str, np.ndarray]:
    """Per-dimension minimum and maximum of one batch of float32 embeddings (one row of each)."""
    matrix = matrix_of(table)
    return {"low": matrix.min(axis=0, keepdims=True), "high": matrix.max(axis=0, keepdims=True)}


def quantize_batch(table: Any, precision: str, ranges: np.ndarray) -> Any:
    """Quantize one batch of float32 embeddings to int8/uint8 with the corpus's ``ranges``."""
    from ..quantization import quantize_embeddings

    return embedding_table(table.column(ID_COLUMN).combine_chunks(),
                           quantize_embeddings(matrix_of(table), precision, ranges=ranges))


def _refuse_missing(ids: Any, texts: list, text_column: str) -> None:
    if ids.null_count:
        raise SentforgeError(f"{ids.null_count} row(s) have no id. Give every row an id, or drop those rows.")
    empty = [ids[i].as_py() for i, text in enumerate(texts) if text is None]
    if empty:
        shown = ", ".join(repr(value) for value in empty[:5]) + (" ..." if len(empty) > 5 else "")
        raise SentforgeError(f"Column '{text_column}' has {len(empty)} empty cell(s) (ids {shown}). "
                             "Fill them in or drop those rows.")
