"""``POST /v1/search``: embed a query with the served model, rank the loaded index's texts, and
reorder the top hits with the reranker when the server has one."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from starlette.responses import Response

from .body import read_json
from .disconnect import result_unless_disconnected
from .errors import ApiError
from .responses import json_response, shape_vectors
from .state import ServerState
from .validation import parse_search


def search_router(state: ServerState, dependencies: list) -> APIRouter:
    router = APIRouter(dependencies=dependencies)
    service, config = state.service, state.config

    @router.post("/v1/search")
    async def search(request: Request) -> Response:
        """``{"query": "...", "k": 10}`` -> the k best rows: rank, id, cosine score, text.

        Reranked (``"rerank": true``, the default with a reranker): the top ``rerank_top`` rows by
        cosine, reordered by the reranker; ``score`` is the reranker's, ``retrieval_score`` the cosine.
        """
        if state.index is None:
            raise ApiError(404, "No index is loaded, so there is nothing to search. Start the server with "
                           "--index DIR (a folder built by `sentforge index`).", code="index_not_loaded")
        body = parse_search(await read_json(request, config.max_body_bytes), config.max_k, state.reranker is not None)
        future, tokens = await service.submit([body.query], truncate=None, param="query")
        query = shape_vectors(await result_unless_disconnected(request, future), normalize=True)
        retrieve = body.rerank_top if body.rerank else body.k
        hits = (await asyncio.to_thread(state.index.search_vectors, query, retrieve))[0]
        if body.rerank:
            rows = await result_unless_disconnected(request, state.reranker.submit(body.query, hits, body.k))
        else:
            rows = hits.rows()
        answer = {"object": "list", "data": [{"object": "search_result", **row} for row in rows],
                  "model": state.model_name}
        if body.rerank:
            answer["reranker"] = state.reranker.model_name
        answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
        return json_response(answer)

    return router
