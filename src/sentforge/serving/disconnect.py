"""Await a request's result unless its client goes away first; then drop the queued work."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import Request


class ClientDisconnected(Exception):
    """The client closed the connection before its result was ready."""


async def result_unless_disconnected(request: Request, future: asyncio.Future) -> Any:
    """``future``'s result; if the client disconnects first, cancel ``future`` (the batcher then skips
    the job unless its batch already started) and raise ``ClientDisconnected``."""
    watcher = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({future, watcher}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        future.cancel()
        raise
    finally:
        watcher.cancel()
    if future in done:
        return future.result()
    future.cancel()
    raise ClientDisconnected()


async def _disconnected(request: Request) -> None:
    """Returns when the server reports ``http.disconnect`` (the body has been read already)."""
    while True:
        message = await request.receive()
        if message.get("type") == "http.disconnect":
            return
