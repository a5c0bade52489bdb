"""Serve a ``socketserver`` server from a daemon thread: the start/stop/context-manager plumbing
shared by the JSON-RPC server (:mod:`ogpu_devnet.rpc`) and the mock pinning service
(:mod:`ogpu_devnet.ipfs`)."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from typing import Any, Generic, TypeVar

_ServerT = TypeVar("_ServerT", bound=socketserver.BaseServer)
_SelfT = TypeVar("_SelfT", bound="ThreadedServing[Any]")


class ThreadedServing(Generic[_ServerT]):
    """Mixin: ``start()`` binds (via :meth:`_make_server`) and serves in a daemon thread,
    ``stop()`` shuts down, closes the socket and joins the thread; both idempotent; a context
    manager. Subclasses set ``host``/``port`` and implement :meth:`_make_server`.

    ``stop()`` also cuts the connections still open (HTTP keep-alive): a stopped server must
    look down to its clients, not keep answering on their pooled connections.
    """

    host: str
    port: int
    _server: _ServerT | None  # subclasses' __init__ set both to None
    _thread: threading.Thread | None
    _thread_prefix = "ogpu-devnet-server"

    def _make_server(self) -> _ServerT:
        """Bind and return the server (not serving yet)."""
        raise NotImplementedError

    def _after_close(self, server: _ServerT) -> None:
        """Hook run after the listening socket is closed (default: nothing)."""

    def start(self: _SelfT) -> _SelfT:
        """Bind and serve in a daemon thread; returns self. Idempotent."""
        if self._server is not None:
            return self
        server = self._make_server()
        self._track_connections(server)
        address: Any = server.server_address
        self.port = int(address[1])
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self._thread_prefix}-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def _track_connections(self, server: _ServerT) -> None:
        open_: set[socket.socket] = set()
        lock = threading.Lock()
        accept = server.get_request
        release = server.shutdown_request

        def get_request() -> tuple[socket.socket, Any]:
            conn, address = accept()
            with lock:
                open_.add(conn)
            return conn, address

        def shutdown_request(request: Any) -> None:
            with lock:
                open_.discard(request)
            release(request)

        def cut_all() -> None:
            with lock:
                conns = list(open_)
                open_.clear()
            for conn in conns:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)

        server.get_request = get_request  # type: ignore[method-assign]
        server.shutdown_request = shutdown_request  # type: ignore[method-assign]
        self._cut_connections = cut_all

    def stop(self) -> None:
        """Stop serving, close the socket and every open connection. Idempotent."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            cut = getattr(self, "_cut_connections", None)
            if cut is not None:
                cut()
            self._after_close(server)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self: _SelfT) -> _SelfT:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
