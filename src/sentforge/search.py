"""Search over embeddings: top-k semantic search and hard-negative mining.

Same functions, arguments and results as sentence-transformers' ``util.semantic_search`` and
``util.mine_hard_negatives``, written for dense embeddings.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Callable

import numpy as np
import torch
from torch import Tensor

from .errors import SentforgeError
from .similarity import SimilarityFunction, cos_sim, normalize_embeddings

ScoreFunction = Callable[[Tensor, Tensor], Tensor]


def _as_2d_tensor(embeddings) -> Tensor:
    """A (rows, dim) tensor from a tensor, an array, a list of vectors or a single vector."""
    if isinstance(embeddings, list) and embeddings and isinstance(embeddings[0], Tensor):
        embeddings = torch.stack(embeddings)
    tensor = embeddings if isinstance(embeddings, Tensor) else torch.as_tensor(np.asarray(embeddings))
    return tensor.unsqueeze(0) if tensor.dim() == 1 else tensor


def semantic_search(
    query_embeddings: Tensor,
    corpus_embeddings: Tensor,
    query_chunk_size: int = 100,
    corpus_chunk_size: int = 500000,
    top_k: int = 10,
    score_function: ScoreFunction = cos_sim,
) -> list[list[dict[str, int | float]]]:
    """For each query, the ``top_k`` corpus entries by ``score_function`` (cosine by default).

    Returns one list per query of ``{"corpus_id": index, "score": float}``, best first. The corpus is
    scanned in chunks so that only a (query_chunk_size x corpus_chunk_size) score matrix is in memory.
    """
    queries = _as_2d_tensor(query_embeddings)
    corpus = _as_2d_tensor(corpus_embeddings)
    if queries.device != corpus.device:
        queries = queries.to(corpus.device)
    # cosine = dot product of normalized rows: normalize each chunk once instead of once per pairing
    normalize = score_function is cos_sim
    if normalize:
        queries = normalize_embeddings(queries.float() if not queries.is_floating_point() else queries)
    best: dict[int, tuple[Tensor, Tensor]] = {}  # query chunk start -> (scores, corpus ids), best first
    for corpus_start in range(0, len(corpus), corpus_chunk_size):
        chunk = corpus[corpus_start : corpus_start + corpus_chunk_size]
        if normalize:
            chunk = normalize_embeddings(chunk.float() if not chunk.is_floating_point() else chunk)
        for query_start in range(0, len(queries), query_chunk_size):
            query_chunk = queries[query_start : query_start + query_chunk_size]
            scores = query_chunk @ chunk.T if normalize else score_function(query_chunk, chunk)
            values, ids = torch.topk(scores, min(top_k, scores.shape[1]), dim=1)
            ids = ids + corpus_start
            if query_start in best:  # merge with the best hits of the earlier corpus chunks
                values = torch.cat([best[query_start][0], values], dim=1)
                ids = torch.cat([best[query_start][1], ids], dim=1)
                values, keep = torch.topk(values, min(top_k, values.shape[1]), dim=1)
                ids = torch.gather(ids, 1, keep)
            best[query_start] = (values, ids)
    results: list[list[dict[str, int | float]]] = []
    for query_start in range(0, len(queries), query_chunk_size):
        if query_start not in best:  # empty corpus
            results += [[] for _ in queries[query_start : query_start + query_chunk_size]]
            continue
        values, ids = best[query_start]
        for row_values, row_ids in zip(values.tolist(), ids.tolist()):
            results.append([{"corpus_id": i, "score": v} for v, i in zip(row_values, row_ids)])
    return results


_OUTPUT_FORMATS = ("triplet", "n-tuple", "labeled-pair", "labeled-list")


def mine_hard_negatives(
    dataset,
    model,
    anchor_column_name: str | None = None,
    positive_column_name: str | None = None,
    corpus: list[str] | None = None,
    range_min: int = 0,
    range_max: int | None = None,
    max_score: float | None = None,
    min_score: float | None = None,
    absolute_margin: float | None = None,
    relative_margin: float | None = None,
    num_negatives: int = 3,
    sampling_strategy: str = "top",
    query_prompt_name: str | None = None,
    query_prompt: str | None = None,
    corpus_prompt_name: str | None = None,
    corpus_prompt: str | None = None,
    include_positives: bool = False,
    output_format: str = "triplet",
    output_scores: bool = False,
    batch_size: int = 32,
    faiss_batch_size: int = 16384,
    use_faiss: bool = False,
    verbose: bool = True,
    margin: float | None = None,
):
    """Add hard negatives to a dataset of (anchor, positive) pairs, as sentence-transformers does.

    Candidates are the corpus entries (``corpus`` plus every positive) most similar to each anchor,
    ranked by the model; the anchor's own positives are never negatives (unless ``include_positives``).
    Candidates at ranks [range_min, range_max) are kept when they pass ``max_score`` / ``min_score`` and
    the margins below the anchor's weakest positive (``absolute_margin``: score + margin <= positive;
    ``relative_margin``: score <= positive - |positive| * margin). ``sampling_strategy`` "top" takes the
    best ``num_negatives`` of them, "random" a random sample. Returns a ``datasets.Dataset`` in
    ``output_format``: "triplet" (anchor, positive, negative), "n-tuple" (anchor, positive, negative_1..n),
    "labeled-pair" (anchor, text, label) or "labeled-list" (anchor, [texts], labels); ``output_scores``
    adds (or, for labeled formats, substitutes) the similarity scores.
    """
    from datasets import Dataset

    from .evaluation.base import model_similarity_fn_name, role_prompt  # deferred: evaluation imports search

    anchor_column_name, positive_column_name = _check_mining_arguments(
        dataset, anchor_column_name, positive_column_name, output_format, sampling_strategy, num_negatives
    )
    if margin is not None:  # older name of absolute_margin
        absolute_margin = margin
    if include_positives:
        output_format = "n-tuple"  # keeps the full ranking in order
    all_queries = list(dataset[anchor_column_name])
    all_positives = list(dataset[positive_column_name])
    max_positives = max(Counter(all_queries).values())
    if range_max is None:
        filtering = any(value is not None for value in (absolute_margin, relative_margin, max_score))
        range_max = range_min + num_negatives * (10 if filtering else 1) + max_positives
    if range_min < 0 or range_min >= range_max or num_negatives > range_max - range_min:
        raise SentforgeError(
            f"Cannot mine {num_negatives} negatives from ranks [{range_min}, {range_max}); need "
            "0 <= range_min < range_max and num_negatives <= range_max - range_min: adjust them."
        )

    # deduplicated corpus (which always holds the positives) and queries
    corpus = list(dict.fromkeys((list(corpus) if corpus is not None else all_positives) + all_positives))
    corpus_index = {text: i for i, text in enumerate(corpus)}
    queries = list(dict.fromkeys(all_queries))
    query_index = {text: i for i, text in enumerate(queries)}
    positive_ids: list[list[int]] = [[] for _ in queries]
    for query, positive in zip(all_queries, all_positives):
        ids = positive_ids[query_index[query]]
        if corpus_index[positive] not in ids:
            ids.append(corpus_index[positive])

    def encode(texts, role, prompt, prompt_name):
        prompt_name = role_prompt(model, role, prompt, prompt_name)
        optional = {k: v for k, v in (("prompt", prompt), ("prompt_name", prompt_name)) if v is not None}
        embeddings = model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=verbose, **optional)
        return np.asarray(embeddings, dtype=np.float32)

    corpus_embeddings = encode(corpus, "document", corpus_prompt, corpus_prompt_name)
    query_embeddings = encode(queries, "query", query_prompt, query_prompt_name)
    search = _faiss_candidates if use_faiss else _exact_candidates
    # one candidate more than the positives need: the anchor's own text, if in the corpus, is never a negative
    width = range_max + max_positives + 1
    scores, indices = search(model, query_embeddings, corpus_embeddings, width, faiss_batch_size)
    scores[indices == -1] = -float("inf")
    own_text = [-1 if include_positives and corpus_index.get(q) in positive_ids[i] else corpus_index.get(q, -1)
                for i, q in enumerate(queries)]
    scores[indices == torch.tensor(own_text).unsqueeze(1)] = -float("inf")
    if not include_positives:
        for q, ids in enumerate(positive_ids):
            scores[q][torch.isin(indices[q], torch.tensor(ids))] = -float("inf")

    pairwise = SimilarityFunction.to_similarity_pairwise_fn(model_similarity_fn_name(model))
    pair_query = [q for q, ids in enumerate(positive_ids) for _ in ids]
    pair_positive = [p for ids in positive_ids for p in ids]
    positive_scores = pairwise(query_embeddings[pair_query], corpus_embeddings[pair_positive]).float()
    per_query_positive = torch.split(positive_scores, [len(ids) for ids in positive_ids])
    weakest_positive = torch.stack([s.min() for s in per_query_positive]).unsqueeze(1)

    skipped: dict[str, int] = {}
    rules = {
        "absolute_margin": None if absolute_margin is None else scores + absolute_margin > weakest_positive,
        "relative_margin": None if relative_margin is None
        else scores > weakest_positive - weakest_positive.abs() * relative_margin,
        "max_score": None if max_score is None else scores > max_score,
        "min_score": None if min_score is None else scores < min_score,
    }
    for rule, removed in rules.items():
        if removed is not None:
            removed &= scores != -float("inf")
            skipped[rule] = int(removed.sum())
            scores[removed] = -float("inf")

    # keep ranks [range_min, range_max), then the best or a random num_negatives of them
    scores, order = torch.topk(scores, k=range_max, dim=1)
    indices = torch.gather(indices, 1, order)[:, range_min:]
    scores = scores[:, range_min:]
    if sampling_strategy == "top":
        scores, indices = scores[:, :num_negatives], indices[:, :num_negatives]
    else:  # random among the valid candidates, kept in score order
        valid = (scores.shape[1] - torch.isinf(scores).sum(1)).clamp(min=num_negatives).tolist()
        picks = torch.tensor([sorted(random.sample(range(n), k=num_negatives)) for n in valid])
        scores, indices = torch.gather(scores, 1, picks), torch.gather(indices, 1, picks)

    rows = _hard_negative_rows(
        output_format, output_scores, anchor_column_name, positive_column_name, queries, corpus,
        positive_ids, per_query_positive, scores, indices,
    )
    if verbose:
        _print_mining_summary(rows, scores, skipped, len(queries), num_negatives)
    return Dataset.from_dict(rows)


def _check_mining_arguments(dataset, anchor_column_name, positive_column_name, output_format, sampling_strategy,
                            num_negatives) -> tuple[str, str]:
    """Validate the arguments a user can get wrong; return the anchor and positive column names."""
    if len(dataset) == 0:
        raise SentforgeError("The dataset is empty; pass a dataset with (anchor, positive) rows.")
    columns = list(dataset.column_names)
    for given in (anchor_column_name, positive_column_name):
        if given is not None and given not in columns:
            raise SentforgeError(f"Column {given!r} is not in the dataset (columns: {columns}); pass an existing one.")
    if len(columns) < 2 and positive_column_name is None:
        raise SentforgeError(f"The dataset needs an anchor and a positive column, it has only {columns}.")
    if output_format not in _OUTPUT_FORMATS:
        raise SentforgeError(f"Unknown output_format {output_format!r}; use one of {list(_OUTPUT_FORMATS)}.")
    if sampling_strategy not in ("top", "random"):
        raise SentforgeError(f"Unknown sampling_strategy {sampling_strategy!r}; use 'top' or 'random'.")
    if num_negatives < 1:
        raise SentforgeError(f"num_negatives must be at least 1, got {num_negatives}.")
    return anchor_column_name or columns[0], positive_column_name or columns[1]


def _exact_candidates(model, queries: np.ndarray, corpus: np.ndarray, width: int, batch_size: int):
    """(scores, corpus indices) of each query's ``width`` best corpus entries; padded with (-inf, -1)."""
    similarity = getattr(model, "similarity", None) or cos_sim
    corpus_tensor = torch.from_numpy(corpus)
    k = min(width, len(corpus))
    parts = [
        torch.topk(similarity(torch.from_numpy(queries[i : i + batch_size]), corpus_tensor).detach().cpu().float(),
                   k=k, dim=1)
        for i in range(0, len(queries), batch_size)
    ]
    scores, indices = torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])
    if width > k:
        scores = torch.cat([scores, torch.full((len(queries), width - k), -float("inf"))], dim=1)
        indices = torch.cat([indices, torch.full((len(queries), width - k), -1, dtype=torch.long)], dim=1)
    return scores, indices


def _faiss_candidates(model, queries: np.ndarray, corpus: np.ndarray, width: int, batch_size: int):
    """As :func:`_exact_candidates`, through a flat inner-product FAISS index (embeddings are normalized)."""
    try:
        import faiss
    except ImportError as exc:
        raise SentforgeError("use_faiss=True needs faiss: pip install faiss-cpu, or pass use_faiss=False.") from exc
    index = faiss.IndexFlatIP(corpus.shape[1])
    index.add(corpus)
    found = [index.search(queries[i : i + batch_size], width) for i in range(0, len(queries), batch_size)]
    scores = torch.from_numpy(np.concatenate([f[0] for f in found])).float()
    return scores, torch.from_numpy(np.concatenate([f[1] for f in found])).long()


def _print_mining_summary(rows: dict[str, list], scores: Tensor, skipped: dict[str, int], n_queries: int,
                          num_negatives: int) -> None:
    found = int((scores != -float("inf")).sum())
    n_rows = len(next(iter(rows.values())))
    print(f"Mined {found} negatives for {n_queries} unique anchors; the dataset has {n_rows} rows.")
    for rule, count in skipped.items():
        if count:
            print(f"Skipped {count:,} candidate negatives due to {rule}.")
    short = int(torch.isinf(scores).any(1).sum())
    if short:
        print(f"Could not find {num_negatives} negatives for {short} anchors; consider raising range_max "
              "or loosening range_min, the margins or max_score.")


def _hard_negative_rows(output_format, output_scores, anchor_col, positive_col, queries, corpus,
                        positive_ids, positive_scores, scores, indices) -> dict[str, list]:
    """Lay the mined negatives out as the columns of ``output_format`` (sentence-transformers' layouts)."""
    num_negatives = scores.shape[1]
    extra = {
        "triplet": ["negative"] + (["scores"] if output_scores else []),
        "n-tuple": [f"negative_{n}" for n in range(1, num_negatives + 1)] + (["scores"] if output_scores else []),
        "labeled-pair": ["score" if output_scores else "label"],
        "labeled-list": ["scores" if output_scores else "labels"],
    }[output_format]
    columns: dict[str, list] = {anchor_col: [], positive_col: [], **{name: [] for name in extra}}

    def add(query, text, *values):
        for name, value in zip(columns, (query, text, *values)):
            columns[name].append(value)

    for q, query in enumerate(queries):
        negatives = [(corpus[i], s) for i, s in zip(indices[q].tolist(), scores[q].tolist()) if s != -float("inf")]
        positives = [(corpus[p], s) for p, s in zip(positive_ids[q], positive_scores[q].tolist())]
        if output_format == "labeled-pair":
            for (text, score), label in [(pos, 1) for pos in positives] + [(neg, 0) for neg in negatives]:
                add(query, text, score if output_scores else label)
            continue
        for positive, positive_score in positives:
            if output_format == "triplet":
                for negative, score in negatives:
                    add(query, positive, negative, *([[positive_score, score]] if output_scores else []))
            elif output_format == "n-tuple" and len(negatives) == num_negatives:
                texts = [text for text, _ in negatives]
                add(query, positive, *texts, *([[positive_score] + [s for _, s in negatives]] if output_scores else []))
            elif output_format == "labeled-list" and negatives:
                values = [positive_score] + [s for _, s in negatives] if output_scores else [1] + [0] * len(negatives)
                add(query, [positive] + [text for text, _ in negatives], values)
    return columns
