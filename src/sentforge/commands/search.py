"""`sentforge search`: the best matches of a query in an index folder, optionally reranked by a CrossEncoder."""

import os
from typing import Any, Optional

import typer
from rich.table import Table
from rich.text import Text

from . import console as out
from .console import user_errors
from ..errors import SentforgeError

_SHOWN_CHARS = 100
DEFAULT_RERANK_TOP = 100
"""Hits retrieved for the reranker when --rerank-top is not given (raised to k when k is larger)."""


@user_errors
def search(
    index_dir: str = typer.Argument(..., metavar="DIR", help="Index folder written by `sentforge index`."),
    query: str = typer.Argument(..., help="The query text, in quotes."),
    k: int = typer.Option(10, "-k", "--k", min=1, max=10_000, help="How many results."),
    model: Optional[str] = typer.Option(None, "--model", help="Model to embed the query (default: the index's own)."),
    rerank: Optional[str] = typer.Option(
        None, "--rerank", metavar="MODEL", help="CrossEncoder that reorders the retrieved hits (folder or id)."),
    rerank_top: Optional[int] = typer.Option(
        None, "--rerank-top", min=1, max=10_000,
        help=f"Hits retrieved for --rerank to reorder (default: {DEFAULT_RERANK_TOP}, at least k)."),
    as_json: bool = typer.Option(False, "--json", help="Print the hits as JSON lines (one object per hit, full "
                                                       "texts), for scripts."),
) -> None:
    """Print the k texts of the index most similar to QUERY: rank, id, cosine score, text (a table, or
    JSON lines with --json).

    With --rerank MODEL, the top --rerank-top hits are rescored by the CrossEncoder and the best k
    are printed with both scores.
    """
    from ..index import VectorIndex

    if rerank_top is not None and rerank is None:
        raise SentforgeError("--rerank-top sets how many hits --rerank reorders; pass --rerank MODEL too.")
    if rerank_top is not None and rerank_top < k:
        raise SentforgeError(f"--rerank-top ({rerank_top}) is smaller than -k ({k}): the reranker can only return "
                             "hits it was given. Raise --rerank-top or lower -k.")
    out.quiet_libraries()
    reranker = load_reranker(rerank) if rerank is not None else None
    index = VectorIndex.load(index_dir, model=model)
    if reranker is None:
        rows = index.search(query, k=k).rows()
        _print_json(rows) if as_json else _print_hits(query, rows)
        return
    hits = index.search(query, k=rerank_top or max(DEFAULT_RERANK_TOP, k))
    rows = rerank_hits(reranker, query, hits, k)
    _print_json(rows) if as_json else _print_reranked(query, rows, len(hits))


def load_reranker(name: str) -> Any:
    """A one-label CrossEncoder with a trained classification head, or a SentforgeError saying why not."""
    from ..cross_encoder import CrossEncoder

    try:
        reranker = CrossEncoder(name)
    except SentforgeError as err:
        raise SentforgeError(f"Could not load the reranker '{name}': {err}") from None
    except (OSError, ValueError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise SentforgeError(f"Could not load the reranker '{name}': {first} Pass a CrossEncoder folder "
                             "(e.g. one saved by `sentforge train-reranker`) or its model id.") from None
    architectures = list(getattr(reranker.config, "architectures", None) or [])
    if architectures and not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise SentforgeError(
            f"'{name}' is not a reranker: it has no trained classification head ({', '.join(architectures)}), "
            "so its scores would be random. Pass a CrossEncoder folder, e.g. one saved by `sentforge train-reranker`."
        )
    if reranker.num_labels != 1:
        raise SentforgeError(f"The reranker '{name}' has {reranker.num_labels} labels; reranking needs a one-label "
                             "(relevance score) CrossEncoder.")
    if os.path.isdir(name):
        from ..cross_encoder.score_fusion import load_fusion_weight

        reranker.score_fusion_weight = load_fusion_weight(name)
    return reranker


def rerank_hits(reranker: Any, query: str, hits: Any, k: int) -> list[dict[str, Any]]:
    """The ``k`` best of ``hits`` (a SearchHits) by reranker score (fused with the cosine where the
    reranker's folder says so): rank, id, both scores, retrieval rank, text."""
    from ..cross_encoder.reranked_hits import reranked_rows

    return reranked_rows(reranker, query, hits, k)


def _print_json(rows: list[dict[str, Any]]) -> None:
    """One JSON object per line, as /v1/search's hits: rank, id, score(s), the whole text."""
    import json

    for row in rows:
        print(json.dumps({key: (float(v) if hasattr(v, "item") else v) for key, v in row.items()}, ensure_ascii=False))


def _print_hits(query: str, rows: list[dict[str, Any]]) -> None:
    table = _table(f"Top {len(rows)} for: {query}", ("rank", "right"), ("id", "left"), ("score", "right"),
                   ("text", "left"))
    for row in rows:
        table.add_row(str(row["rank"]), Text(row["id"]), f"{row['score']:.4f}", Text(_shown(row["text"])))
    out.console.print(table)


def _print_reranked(query: str, rows: list[dict[str, Any]], retrieved: int) -> None:
    fusion = bool(rows) and "fused_score" in rows[0]
    columns = [("rank", "right"), ("id", "left"), *([("fused", "right")] if fusion else []),
               ("rerank score", "right"), ("cosine", "right"), ("retrieval rank", "right"), ("text", "left")]
    table = _table(f"Top {len(rows)} of {retrieved} reranked for: {query}", *columns)
    for row in rows:
        fused_cell = [f"{row['fused_score']:.4f}"] if fusion else []
        table.add_row(str(row["rank"]), Text(row["id"]), *fused_cell, f"{row['score']:.4f}",
                      f"{row['retrieval_score']:.4f}", str(row["retrieval_rank"]), Text(_shown(row["text"])))
    out.console.print(table)


def _table(title: str, *columns: tuple[str, str]) -> Table:
    table = Table(title=Text(title), title_justify="left")
    for column, justify in columns:
        table.add_column(column, justify=justify, overflow="fold")
    return table


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."
