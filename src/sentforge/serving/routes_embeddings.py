"""Embedding routes: OpenAI's ``/v1/embeddings`` and ``/v1/models``, TEI's ``/embed`` and ``/similarity``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from .body import read_json
from .disconnect import result_unless_disconnected
from .responses import json_response, openai_embeddings, shape_vectors
from .state import ServerState
from .validation import parse_embed, parse_embeddings, parse_similarity


def embeddings_router(state: ServerState, dependencies: list) -> APIRouter:
    router = APIRouter(dependencies=dependencies)
    service, config = state.service, state.config

    @router.post("/v1/embeddings")
    @router.post("/embeddings")  # text-embeddings-inference serves OpenAI's route here too
    async def create_embeddings(request: Request) -> Response:
        """OpenAI-compatible: unit-length vectors, as floats or base64 float32; ``dimensions`` truncates."""
        body = parse_embeddings(await read_json(request, config.max_body_bytes), config.max_inputs, service.dimension)
        future, tokens = await service.submit(body.texts, truncate=None)
        raw = await result_unless_disconnected(request, future)
        vectors = shape_vectors(raw, normalize=True, dimensions=body.dimensions)
        return json_response(openai_embeddings(vectors, state.model_name, tokens, body.encoding_format))

    @router.get("/v1/models")
    async def list_models() -> Response:
        """OpenAI-compatible: the one model this server embeds with."""
        model = {"id": state.model_name, "object": "model", "created": int(state.started_at), "owned_by": "sentforge"}
        return json_response({"object": "list", "data": [model]})

    async def embed_body(request: Request, raw_body) -> Response:
        body = parse_embed(raw_body, config.max_inputs, service.dimension)
        future, _ = await service.submit(body.texts, truncate=body.truncate, param="inputs",
                                         from_left=body.truncation_direction == "left")
        raw = await result_unless_disconnected(request, future)
        vectors = shape_vectors(raw, normalize=body.normalize, dimensions=body.dimensions)
        return json_response(vectors.tolist())

    async def similarity_body(request: Request, raw_body) -> Response:
        body = parse_similarity(raw_body, config.max_inputs)
        future, _ = await service.submit([body.source, *body.sentences], truncate=body.truncate, param="inputs",
                                         name_of=_similarity_input)
        vectors = shape_vectors(await result_unless_disconnected(request, future), normalize=True)
        return json_response((vectors[1:] @ vectors[0]).astype(float).tolist())

    @router.post("/embed")
    async def embed(request: Request) -> Response:
        """text-embeddings-inference-compatible: a list of vectors, one per input."""
        return await embed_body(request, await read_json(request, config.max_body_bytes))

    @router.post("/similarity")
    async def similarity(request: Request) -> Response:
        """text-embeddings-inference-compatible: cosine of ``source_sentence`` with each of ``sentences``."""
        return await similarity_body(request, await read_json(request, config.max_body_bytes))

    @router.post("/")
    @router.post("/invocations")
    async def root(request: Request) -> Response:
        """text-embeddings-inference's root (and SageMaker's ``/invocations``), where ``huggingface_hub``'s
        InferenceClient posts: ``/embed``'s body, or ``/similarity``'s when ``inputs`` is an object."""
        raw_body = await read_json(request, config.max_body_bytes)
        if isinstance(raw_body, dict) and isinstance(raw_body.get("inputs"), dict):
            return await similarity_body(request, raw_body)
        return await embed_body(request, raw_body)

    return router


def _similarity_input(position: int) -> str:
    return "inputs.source_sentence" if position == 0 else f"inputs.sentences[{position - 1}]"
