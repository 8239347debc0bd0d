"""Serve a Sandbox over real HTTP on loopback (tests, `techapi sandbox`)."""

from __future__ import annotations

import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, make_server

from techapi.spapi.sandbox.app import Sandbox


class SandboxServer:
    """A threaded HTTP server in a background thread; use as a context manager."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        self._server: BaseWSGIServer = make_server(host, port, sandbox, threaded=True)
        if sandbox.config.base_url is None:  # its upload URLs point here, whatever Host a caller sends
            sandbox.config.base_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="sandbox-http", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()
