"""Fixtures of the ogpu.service tests: a real uvicorn server and a real callback server.

``serve(registry, **config)`` runs ``create_app`` under uvicorn on a free port in a thread and
returns its base URL; ``callbacks`` is a threaded HTTP server on a free port that records every
POST (path and JSON body) and can be told to fail its first answers (``fail_first``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import uvicorn
from ogpu.service import Registry, ServiceConfig, create_app


@dataclass
class CallbackServer:
    """Records POSTs; answers ``fail_status`` to the first ``fail_first`` of them."""

    fail_first: int = 0
    fail_status: int = 503
    received: list[tuple[str, Any]] = field(default_factory=list)
    hits: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/callback"

    def start(self) -> CallbackServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with outer._cond:
                    outer.hits += 1
                    failing = outer.hits <= outer.fail_first
                    if not failing:
                        outer.received.append((self.path, json.loads(body)))
                    outer._cond.notify_all()
                self.send_response(outer.fail_status if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[tuple[str, Any]]:
        """The first ``count`` delivered callbacks (path, body); fails the test on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} callbacks of {count} arrived")
                self._cond.wait(left)
            return list(self.received[:count])


@pytest.fixture
def callbacks() -> Iterator[CallbackServer]:
    server = CallbackServer().start()
    yield server
    server.stop()


class Running:
    """A uvicorn server running an app in a thread; ``url`` is its base URL."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Running:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    @property
    def url(self) -> str:
        (server,) = self.server.servers
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(registry: Registry, **config: Any) -> Running:
        config.setdefault("port", 0)
        running = Running(create_app(registry, ServiceConfig(**config))).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
