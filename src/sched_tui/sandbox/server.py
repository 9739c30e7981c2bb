"""Serve a sandbox app over HTTP with uvicorn, in the foreground or in a background thread."""

from __future__ import annotations

import logging
import socket
import threading
import time

import httpx
import uvicorn
from starlette.applications import Starlette

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"


def serve(app: Starlette, host: str = DEFAULT_HOST, port: int = 8765) -> None:
    """Serve `app` until interrupted (Ctrl-C)."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    uvicorn.Server(config).run()


class BackgroundServer:
    """A uvicorn server running in a daemon thread, on a port picked by the OS.

    `start` returns once the server answers ``GET /_sandbox/health``; `stop`
    asks uvicorn to exit and joins the thread.
    """

    def __init__(self, app: Starlette, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        """Base URL, for example ``http://127.0.0.1:54321``."""
        return f"http://{self.host}:{self.port}"

    def start(self, deadline_s: float = 10.0) -> None:
        """Start serving and poll the health endpoint until it answers 200."""
        self._thread.start()
        give_up = time.monotonic() + deadline_s
        while True:
            try:
                if httpx.get(f"{self.url}/_sandbox/health", timeout=1.0).status_code == 200:
                    log.info("sandbox listening on %s", self.url)
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > give_up or not self._thread.is_alive():
                self.stop()
                raise RuntimeError(f"sandbox on {self.url} did not start within {deadline_s:g} s")
            time.sleep(0.02)

    def stop(self) -> None:
        """Ask uvicorn to exit, wait for the thread and close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self._socket.close()
        log.info("sandbox on %s stopped", self.url)
