"""``VectorIndex``: texts embedded by one model, searched by cosine similarity with usearch.

Up to ``EXACT_SEARCH_LIMIT`` vectors the search is exact (usearch's brute force: the same ranking as
scoring every text); above it an HNSW graph answers approximately. The folder holds the vectors
(``vectors.npy``), the ids and texts (``rows.parquet``), the graph when there is one, and
``manifest.json``, which names the model and the sha256 of its weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import SentforgeError

from .corpus import refuse_duplicate_ids
from .encoding import embed_texts, weight_precision, with_precision
from .manifest import GRAPH_FILE, ROWS_FILE, VECTORS_FILE, IndexManifest, utc_now
from .model_identity import ModelIdentity, check_same_weights, load_model_with_identity
from .storage import read_rows, write_folder_atomically, write_rows

EXACT_SEARCH_LIMIT = 50_000
"""Indexes up to this many vectors are searched exactly; larger ones through the HNSW graph."""
HNSW_SETTINGS = {"connectivity": 32, "expansion_add": 200, "expansion_search": 256}
MAX_K = 10_000


@dataclass
class SearchHits:
    """One query's results, best first: ids, cosine scores and texts."""

    ids: list[str]
    scores: list[float]
    texts: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def rows(self) -> list[dict[str, Any]]:
        """``[{"rank", "id", "score", "text"}, ...]``."""
        return [{"rank": rank, "id": i, "score": s, "text": t}
                for rank, (i, s, t) in enumerate(zip(self.ids, self.scores, self.texts), start=1)]


class VectorIndex:
    """Embeddings of a corpus, with the model that made them; ``search`` ranks the texts for a query."""

    def __init__(self, model: Any, manifest: IndexManifest, ids: list[str], texts: list[str], vectors: np.ndarray,
                 exact_search_limit: int = EXACT_SEARCH_LIMIT) -> None:
        self.model = model
        self.manifest = manifest
        self._ids = ids
        self._texts = texts
        self._vectors = vectors
        self._graph: Any = None
        self.exact_search_limit = exact_search_limit

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        model: Any,
        ids: Sequence[Any],
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        precision: str | None = None,
        progress: Callable[[int], None] | None = None,
        id_column: str | None = None,
        text_columns: Sequence[str] | None = None,
    ) -> "VectorIndex":
        """Embed ``texts`` with ``model`` (a SentenceTransformer, a folder or a model id) and index them.

        ``precision`` (float32, int8 or bfloat16) applies to a model given by name; a model object
        encodes in the precision it has. ``progress(n)`` is called after every chunk of texts.
        """
        ids, texts = _check_rows(ids, texts)
        model, identity = _model_and_identity(model, precision)
        vectors = embed_texts(model, texts, batch_size=batch_size, progress=progress)
        manifest = IndexManifest(
            model=identity.name, model_path=identity.path, model_sha256=identity.sha256,
            weights_fingerprint=identity.fingerprint, dimension=int(vectors.shape[1]), count=len(ids),
            precision=weight_precision(model), sentforge_version=_version(), id_column=id_column,
            text_columns=list(text_columns) if text_columns else None,
        )
        return cls(model, manifest, ids, texts, vectors)

    def add(self, ids: Sequence[Any], texts: Sequence[str], *, batch_size: int = 32,
            progress: Callable[[int], None] | None = None) -> None:
        """Embed and append new rows; ids already in the index are refused."""
        ids, texts = _check_rows(ids, texts)
        refuse_duplicate_ids(ids, "the new rows", existing=set(self._ids))
        vectors = embed_texts(self._require_model(), texts, batch_size=batch_size, progress=progress)
        self._vectors = np.concatenate([np.asarray(self._vectors), vectors])
        self._ids = self._ids + ids
        self._texts = self._texts + texts
        self.manifest = replace(self.manifest, count=len(self._ids), updated=utc_now())

    # -- searching -----------------------------------------------------------------------------
    def search(self, queries: str | Sequence[str], k: int = 10) -> SearchHits | list[SearchHits]:
        """The ``k`` best rows for one query (a ``SearchHits``) or for each of several (a list)."""
        single = isinstance(queries, str)
        texts = [queries] if single else list(queries)
        if not texts or not all(isinstance(text, str) for text in texts):
            raise SentforgeError("search() needs a query string or a non-empty list of query strings.")
        vectors = self._require_model().encode(texts, normalize_embeddings=True, convert_to_numpy=True,
                                               show_progress_bar=False)
        hits = self.search_vectors(vectors, k)
        return hits[0] if single else hits

    def search_vectors(self, vectors: np.ndarray, k: int = 10) -> list[SearchHits]:
        """The ``k`` best rows by cosine for each query vector (rows of ``vectors``)."""
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
            raise SentforgeError(f"k must be an integer from 1 to {MAX_K}, got {k!r}.")
        queries = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if queries.shape[1] != self.dimension:
            raise SentforgeError(f"Query vectors have {queries.shape[1]} dimensions; the index has {self.dimension}. "
                                 "Embed the queries with the index's model.")
        count = min(int(k), len(self))
        if self.exact:
            from usearch.index import MetricKind, search

            matches = search(np.asarray(self._vectors), queries, count, MetricKind.Cos, exact=True)
        else:
            matches = self._ensure_graph().search(queries, count)
        keys = np.asarray(matches.keys).reshape(len(queries), -1)
        distances = np.asarray(matches.distances).reshape(len(queries), -1)
        found = np.asarray(getattr(matches, "counts", [keys.shape[1]])).reshape(-1)
        found = np.broadcast_to(found, (len(queries),))
        results = []
        for row in range(len(queries)):
            picked = keys[row, : int(found[row])].astype(np.int64)
            scores = (1.0 - distances[row, : int(found[row])]).astype(float).tolist()
            results.append(SearchHits([self._ids[i] for i in picked], scores, [self._texts[i] for i in picked]))
        return results

    # -- saving and loading --------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the index folder atomically (a temp folder beside ``path``, then a rename)."""
        manifest = replace(self.manifest, search="exact" if self.exact else "hnsw", files=self._files())

        def write(folder: Path) -> None:
            np.save(folder / VECTORS_FILE, np.ascontiguousarray(self._vectors, dtype=np.float32))
            write_rows(folder / ROWS_FILE, self._ids, self._texts)
            if not self.exact:
                self._ensure_graph().save(str(folder / GRAPH_FILE))
            manifest.write(folder)

        target = write_folder_atomically(path, write)
        self.manifest = manifest
        return target

    @classmethod
    def load(cls, path: str | Path, model: Any = None, *, identity: ModelIdentity | None = None) -> "VectorIndex":
        """Open an index folder. ``model``: None (the model it was built with), a model name or folder,
        or a loaded SentenceTransformer (``identity`` then says which weights it was loaded from).
        A model with other weights than the index's is refused."""
        folder = Path(path).expanduser()
        manifest = IndexManifest.read(folder)
        ids, texts = read_rows(folder / manifest.files.get("rows", ROWS_FILE))
        vectors = _read_vectors(folder / manifest.files.get("vectors", VECTORS_FILE), manifest)
        if not len(ids) == len(texts) == len(vectors) == manifest.count:
            raise SentforgeError(
                f"The index at '{folder}' is inconsistent: {manifest.count} in the manifest, {len(ids)} rows, "
                f"{len(vectors)} vectors. Rebuild it with `sentforge index ... --overwrite`."
            )
        model = _model_for(manifest, model, identity, folder)
        index = cls(model, manifest, ids, texts, vectors)
        graph_file = folder / manifest.files.get("graph", GRAPH_FILE)
        if not index.exact and graph_file.is_file():
            index._graph = _restore_graph(graph_file)
        return index

    # -- properties ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[str]:
        return list(self._ids)

    @property
    def texts(self) -> list[str]:
        return list(self._texts)

    @property
    def dimension(self) -> int:
        return int(self.manifest.dimension)

    @property
    def exact(self) -> bool:
        """Whether searches are exact (brute force) rather than through the HNSW graph."""
        return len(self) <= self.exact_search_limit

    def vectors(self) -> np.ndarray:
        """The unit-length embeddings, one row per id."""
        return np.asarray(self._vectors)

    # -- helpers -------------------------------------------------------------------------------
    def _require_model(self) -> Any:
        if self.model is None:
            raise SentforgeError("This index has no model to embed text with. "
                                 "Load it with VectorIndex.load(dir, model=...).")
        return self.model

    def _ensure_graph(self) -> Any:
        """The HNSW graph over every vector (rows added since it was built are added now)."""
        from usearch.index import Index

        if self._graph is None:
            self._graph = Index(ndim=self.dimension, metric="cos", dtype="f32", **HNSW_SETTINGS)
        have = len(self._graph)
        if have < len(self):
            keys = np.arange(have, len(self), dtype=np.uint64)
            self._graph.add(keys, np.ascontiguousarray(self._vectors[have:], dtype=np.float32))
        return self._graph

    def _files(self) -> dict[str, str]:
        files = {"vectors": VECTORS_FILE, "rows": ROWS_FILE}
        if not self.exact:
            files["graph"] = GRAPH_FILE
        return files


def _check_rows(ids: Sequence[Any], texts: Sequence[str]) -> tuple[list[str], list[str]]:
    ids, texts = [str(i) for i in ids], list(texts)
    if len(ids) != len(texts):
        raise SentforgeError(f"Got {len(ids)} ids and {len(texts)} texts; give one id per text.")
    if not ids:
        raise SentforgeError("No rows to index. Pass at least one (id, text).")
    bad = next((i for i, text in enumerate(texts) if not isinstance(text, str) or not text.strip()), None)
    if bad is not None:
        raise SentforgeError(f"Text {bad} (id {ids[bad]!r}) is empty or not a string. Every row needs a text.")
    refuse_duplicate_ids(ids, "the rows")
    return ids, texts


def _model_and_identity(model: Any, precision: str | None) -> tuple[Any, ModelIdentity]:
    if isinstance(model, (str, Path)):
        loaded, identity = load_model_with_identity(str(model))
        return with_precision(loaded, precision or "float32"), identity
    if model is None:
        raise SentforgeError("Pass the model that embeds the texts: a SentenceTransformer, a folder or a model id.")
    if precision is not None and precision != weight_precision(model):
        raise SentforgeError(
            f"The model object encodes in {weight_precision(model)}, not {precision}. Pass the model by name to "
            "let the index convert it, or convert it first with sentforge.backends.quantize_model."
        )
    return model, ModelIdentity.of(model)


def _model_for(manifest: IndexManifest, model: Any, identity: ModelIdentity | None, folder: Path) -> Any:
    built_with = ModelIdentity(manifest.model, manifest.model_path, manifest.model_sha256, manifest.weights_fingerprint)
    if model is None or isinstance(model, (str, Path)):
        name = str(model) if model is not None else _default_model_name(manifest)
        loaded, identity = load_model_with_identity(name)
        check_same_weights(built_with, identity, folder)
        return with_precision(loaded, manifest.precision)
    check_same_weights(built_with, identity or ModelIdentity.of(model), folder)
    return model


def _default_model_name(manifest: IndexManifest) -> str:
    if manifest.model_path and Path(manifest.model_path).is_dir():
        return manifest.model_path
    return manifest.model


def _read_vectors(path: Path, manifest: IndexManifest) -> np.ndarray:
    if not path.is_file():
        raise SentforgeError(f"The index file {path} is missing. Rebuild the index with `sentforge index`.")
    mmap = "r" if manifest.count > EXACT_SEARCH_LIMIT else None
    vectors = np.load(path, mmap_mode=mmap, allow_pickle=False)
    if vectors.ndim != 2 or vectors.shape[1] != manifest.dimension or vectors.dtype != np.float32:
        raise SentforgeError(f"{path} does not hold {manifest.dimension}-dimensional float32 vectors. "
                             "Rebuild the index.")
    return vectors


def _restore_graph(path: Path) -> Any:
    from usearch.index import Index

    graph = Index.restore(str(path))
    graph.expansion_search = HNSW_SETTINGS["expansion_search"]
    return graph


def _version() -> str:
    from .. import __version__

    return __version__
