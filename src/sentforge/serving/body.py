"""Reading a request body as JSON: content type, size limit and parse errors become clear 4xx errors."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.requests import ClientDisconnect

from .disconnect import ClientDisconnected
from .errors import ApiError, bad_request


async def read_json(request: Request, max_bytes: int) -> Any:
    """The parsed JSON body; 415 for another content type, 413 over ``max_bytes``, 400 for bad JSON.

    A client that goes away before its body has arrived raises ``ClientDisconnected`` (recorded as 499).
    """
    content_type = request.headers.get("content-type")
    if content_type is not None:
        mime = content_type.split(";", 1)[0].strip().lower()
        if mime != "application/json" and not mime.endswith("+json"):
            raise ApiError(415, f"Content-Type must be application/json, got {content_type!r}. Send a JSON body "
                           "with the header 'Content-Type: application/json'.", code="unsupported_media_type")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise bad_request(f"Invalid Content-Length header {declared!r}.", code="invalid_header")
        if int(declared) > max_bytes:
            raise _too_large(int(declared), max_bytes)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(size, max_bytes)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientDisconnected() from None
    raw = b"".join(chunks)
    if not raw.strip():
        raise bad_request("The request body is empty. Send a JSON object, e.g. {\"input\": \"some text\"}.",
                          code="empty_body")
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise bad_request("The request body is not UTF-8 text. Send UTF-8 encoded JSON.", code="invalid_json") from None
    except json.JSONDecodeError as err:
        raise bad_request(f"The request body is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}.",
                          code="invalid_json") from None
    except RecursionError:
        raise bad_request("The request body nests lists or objects too deeply to read. Send a flat object, "
                          "e.g. {\"input\": [\"text\", ...]}.", code="invalid_json") from None


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, f"The request body is {size:,} bytes or more; this server accepts at most {limit:,}. "
                    "Send fewer or shorter inputs per request.", code="payload_too_large")
