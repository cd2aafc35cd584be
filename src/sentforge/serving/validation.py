"""Request bodies checked field by field: each mistake is a 400 that names the field and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import bad_request

ENCODING_FORMATS = ("float", "base64")
DEFAULT_RERANK_TOP = 100
"""Hits retrieved for the reranker when a search does not say (raised to ``k`` when ``k`` is larger)."""


@dataclass
class EmbeddingsRequest:
    """``POST /v1/embeddings`` (OpenAI)."""

    texts: list[str]
    model: str | None
    encoding_format: str
    dimensions: int | None


@dataclass
class EmbedRequest:
    """``POST /embed`` (text-embeddings-inference)."""

    texts: list[str]
    normalize: bool
    truncate: bool | None
    dimensions: int | None
    truncation_direction: str = "right"


@dataclass
class SimilarityRequest:
    """``POST /similarity`` (text-embeddings-inference): one source sentence against several sentences."""

    source: str
    sentences: list[str]
    truncate: bool | None


@dataclass
class SearchRequest:
    """``POST /v1/search``: one query, the number of hits; whether to rerank, and how many hits to rerank."""

    query: str
    k: int
    rerank: bool = False
    rerank_top: int | None = None


def parse_embeddings(body: Any, max_inputs: int, dimension: int) -> EmbeddingsRequest:
    body = _object(body)
    texts = _texts(body, "input", max_inputs)
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise bad_request(f"'model' must be a string, got {_kind(model)}.", param="model", code="invalid_type")
    encoding_format = body.get("encoding_format", "float")
    if encoding_format is None:
        encoding_format = "float"
    if encoding_format not in ENCODING_FORMATS:
        raise bad_request(f"'encoding_format' must be 'float' or 'base64', got {encoding_format!r}.",
                          param="encoding_format")
    return EmbeddingsRequest(texts, model, encoding_format, _dimensions(body, dimension))


def parse_embed(body: Any, max_inputs: int, dimension: int) -> EmbedRequest:
    body = _object(body)
    texts = _texts(body, "inputs", max_inputs)
    normalize = _bool(body, "normalize", True)
    truncate = _bool(body, "truncate", None)
    return EmbedRequest(texts, normalize, truncate, _dimensions(body, dimension), _truncation_direction(body))


def _truncation_direction(body: dict) -> str:
    """TEI's ``truncation_direction``: ``Right`` (keep the start, the default) or ``Left`` (keep the end)."""
    value = body.get("truncation_direction")
    if value is None:
        return "right"
    if not isinstance(value, str) or value.lower() not in ("left", "right"):
        raise bad_request(f"'truncation_direction' must be 'Left' or 'Right', got {_kind(value)}.",
                          param="truncation_direction")
    return value.lower()


def parse_similarity(body: Any, max_inputs: int) -> SimilarityRequest:
    body = _object(body)
    inputs = body.get("inputs")
    if not isinstance(inputs, dict):
        raise bad_request("'inputs' must be an object {\"source_sentence\": \"...\", \"sentences\": [\"...\", ...]}, "
                          f"got {_kind(inputs)}.", param="inputs", code="invalid_type")
    source = _texts(inputs, "source_sentence", 1, param="inputs.source_sentence", allow_list=False)[0]
    sentences = _texts(inputs, "sentences", max(max_inputs - 1, 1), param="inputs.sentences")
    return SimilarityRequest(source, sentences, _bool(body, "truncate", None))


def parse_search(body: Any, max_k: int, has_reranker: bool = False) -> SearchRequest:
    """``rerank`` defaults to whether the server has a reranker; ``rerank_top`` (hits retrieved for it)
    to ``DEFAULT_RERANK_TOP``, raised to ``k``, at most ``max_k``."""
    body = _object(body)
    query = _texts(body, "query", 1, allow_list=False)[0]
    k = _int_in_range(body, "k", 10, 1, max_k)
    rerank = _bool(body, "rerank", has_reranker)
    if rerank and not has_reranker:
        raise bad_request("'rerank' is true but this server has no reranker. Start it with --reranker MODEL "
                          "(a CrossEncoder), or leave 'rerank' out.", param="rerank", code="reranker_not_loaded")
    if body.get("rerank_top") is None:
        return SearchRequest(query, k, rerank, min(max(DEFAULT_RERANK_TOP, k), max_k) if rerank else None)
    if not rerank:
        why = "'rerank' is false" if has_reranker else "this server has no reranker (start it with --reranker MODEL)"
        raise bad_request(f"'rerank_top' sets how many hits the reranker reorders, but {why}. Leave 'rerank_top' "
                          "out.", param="rerank_top")
    rerank_top = _int_in_range(body, "rerank_top", None, 1, max_k)
    if rerank_top < k:
        raise bad_request(f"'rerank_top' ({rerank_top}) is smaller than 'k' ({k}): the reranker can only return "
                          "hits it was given. Raise 'rerank_top' or lower 'k'.", param="rerank_top")
    return SearchRequest(query, k, rerank, rerank_top)


# -- fields ---------------------------------------------------------------------------------------
def _object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise bad_request(f"The request body must be a JSON object, got {_kind(body)}.", code="invalid_type")
    return body


def _texts(body: dict, name: str, max_inputs: int, param: str | None = None, allow_list: bool = True) -> list[str]:
    """A string or (when ``allow_list``) a non-empty list of non-empty strings."""
    param = param or name
    shape = "a string or a list of strings" if allow_list else "a string"
    if name not in body or body[name] is None:
        raise bad_request(f"'{param}' is required: {shape}.", param=param, code="missing_field")
    value = body[name]
    if isinstance(value, str):
        values = [value]
    elif isinstance(value, list) and allow_list:
        values = value
        if not values:
            raise bad_request(f"'{param}' is an empty list. Send at least one text.", param=param, code="empty_input")
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values) or all(
            isinstance(v, list) and v and all(isinstance(t, int) for t in v) for v in values
        ):
            raise bad_request(f"'{param}' holds token ids; this server embeds text only. Send the text itself "
                              "(a string or a list of strings).", param=param, code="unsupported_input")
        if len(values) > max_inputs:
            raise bad_request(f"'{param}' has {len(values)} texts; at most {max_inputs} are accepted per request. "
                              "Split the texts over several requests.", param=param, code="too_many_inputs")
    else:
        raise bad_request(f"'{param}' must be {shape}, got {_kind(value)}.", param=param, code="invalid_type")
    for i, text in enumerate(values):
        where = f"{param}[{i}]" if isinstance(value, list) else param
        if not isinstance(text, str):
            raise bad_request(f"'{where}' must be a string, got {_kind(text)}.", param=param, code="invalid_type")
        if not text.strip():
            raise bad_request(f"'{where}' is empty. Every text needs at least one non-space character.",
                              param=param, code="empty_input")
        if not _is_unicode_text(text):
            raise bad_request(f"'{where}' holds an unpaired surrogate escape (such as \\ud800), which is not a "
                              "character. Send valid Unicode text.", param=param, code="invalid_text")
    return list(values)


def _is_unicode_text(text: str) -> bool:
    """False for a string with lone surrogates (JSON allows ``"\\ud800"``; no tokenizer takes it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _int_in_range(body: dict, name: str, default: int | None, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'{name}' must be an integer, got {_kind(value)}.", param=name, code="invalid_type")
    if not low <= value <= high:
        raise bad_request(f"'{name}' must be from {low} to {high}, got {value}.", param=name)
    return value


def _bool(body: dict, name: str, default: bool | None) -> bool | None:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise bad_request(f"'{name}' must be true or false, got {_kind(value)}.", param=name, code="invalid_type")
    return value


def _dimensions(body: dict, model_dimension: int) -> int | None:
    value = body.get("dimensions")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"'dimensions' must be an integer, got {_kind(value)}.", param="dimensions",
                          code="invalid_type")
    if not 1 <= value <= model_dimension:
        raise bad_request(f"'dimensions' must be from 1 to {model_dimension} (the model's dimension), got {value}.",
                          param="dimensions")
    return value


def _kind(value: Any) -> str:
    """How a JSON value reads in a message: 'a number (3)', 'an object', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
