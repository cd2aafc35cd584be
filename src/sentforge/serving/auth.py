"""API key check: ``Authorization: Bearer KEY`` (what the OpenAI clients send), compared in constant time."""

from __future__ import annotations

import hmac

from fastapi import Request

from .errors import ApiError


def api_key_dependency(api_key: str | None):
    """A FastAPI dependency that refuses requests without the key (a no-op when no key is set)."""
    expected = api_key.encode() if api_key else None

    async def require_api_key(request: Request) -> None:
        if expected is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not header:
            raise ApiError(401, "Missing API key. Send it as the header 'Authorization: Bearer YOUR_KEY'.",
                           code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise ApiError(401, "Incorrect API key. Send the key the server was started with, as "
                           "'Authorization: Bearer YOUR_KEY'.", code="invalid_api_key",
                           headers={"WWW-Authenticate": "Bearer"})

    return require_api_key
