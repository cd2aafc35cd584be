"""Running the app with uvicorn: in the foreground (`sentforge serve`) or in a background thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn


def run_server(app: Any, host: str = "127.0.0.1", port: int = 8080, log_level: str = "info") -> None:
    """Serve until interrupted (Ctrl-C stops it gracefully)."""
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False, server_header=False)


class BackgroundServer:
    """``with BackgroundServer(app) as server: ... server.url ...``: uvicorn in a thread, on a free port by default."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning",
                 startup_timeout: float = 60.0) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False,
                                server_header=False, lifespan="on")
        self.server = uvicorn.Server(config)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "BackgroundServer":
        self._thread = threading.Thread(target=self.server.run, name="sentforge-uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("The server did not start; see the log above.")
            time.sleep(0.01)
        sockets = [s for server in self.server.servers for s in server.sockets]
        self.port = sockets[0].getsockname()[1]
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
