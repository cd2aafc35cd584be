"""Import ray with one clear error when it is missing, and connect to (or start) a Ray cluster."""

from __future__ import annotations

import logging
import os
import re
from contextlib import contextmanager
from typing import Any, Iterator

from ..errors import SentforgeError

INSTALL_HINT = 'pip install "sentforge[ray]"'


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a SentforgeError saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data is a separate extra of ray
    except ImportError:
        raise SentforgeError(f"--ray needs Ray Data, which is not installed. Run: {INSTALL_HINT}") from None
    return ray


@contextmanager
def ray_cluster(address: str | None = None) -> Iterator[Any]:
    """Use the Ray cluster already connected, else connect to ``address`` (or RAY_ADDRESS), else start one here.

    A cluster connected here is disconnected (and one started here is stopped) on exit.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    # Workers' output stays in the cluster's logs: a worker's error reaches the driver as an exception anyway.
    options: dict[str, Any] = {"logging_level": logging.WARNING, "log_to_driver": False}
    if not (address or os.environ.get("RAY_ADDRESS")):
        options["include_dashboard"] = False
    try:
        ray.init(address=address or None, **options)
    except (ConnectionError, ValueError, RuntimeError, ImportError) as err:
        raise SentforgeError(_connect_advice(address or os.environ.get("RAY_ADDRESS", ""), err)) from None
    try:
        yield ray
    finally:
        ray.shutdown()


def _connect_advice(address: str, err: Exception) -> str:
    reason = (str(err).strip().splitlines() or [type(err).__name__])[0].rstrip(".")
    if address.startswith("ray://") and "ray[client]" in str(err):
        return f'Connecting to {address} needs the Ray Client, which is not installed. Run: pip install "ray[client]"'
    return (f"Could not connect to the Ray cluster at '{address}': {reason}. Check the address "
            "(ray://HEAD:10001 for the Ray Client, or HEAD:6379 on a node of the cluster) and that the cluster is up.")


_USER_ERROR = re.compile(r"^[\w.]*SentforgeError: ", re.MULTILINE)
_NEXT_IN_CHAIN = re.compile(r"\n\s*\n(?:The above exception|During handling of the above exception)")


def user_error_from_worker(err: Exception) -> SentforgeError | None:
    """The SentforgeError a Ray worker raised, read back from the traceback text Ray sends; None otherwise.

    Ray passes the worker's exception on as text only; its message is what follows the last
    ``SentforgeError:`` line, up to the end of the text or to the next exception of the chain.
    """
    text = str(err)
    found = list(_USER_ERROR.finditer(text))
    if not found:
        return None
    message = _NEXT_IN_CHAIN.split(text[found[-1].end():], maxsplit=1)[0]
    return SentforgeError(message.strip())
