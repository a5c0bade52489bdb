"""The devnet's HTTP transport: one thread per connection, keep-alive, POST only (CORS allowed),
bodies of at most :data:`MAX_BODY_BYTES`, and the fault knobs applied per HTTP request
(lag taken, calls counted, a dropped answer hung up on).

A body of notifications only is answered HTTP 200 with an empty body, as geth answers it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from ogpu_devnet._faults import Knobs, Lag
from ogpu_devnet._jsonrpc import Payload, error_answer
from ogpu_devnet.errors import DevnetError, InternalError, InvalidRequestError

logger = logging.getLogger("ogpu_devnet.rpc")

#: Largest request body accepted (above: HTTP 413).
MAX_BODY_BYTES = 32 * 1024 * 1024
#: Pending connections the listening socket queues (socketserver's default of 5 resets
#: clients under a burst of concurrent connects).
LISTEN_BACKLOG = 512


class Answering(Protocol):
    """What the transport serves: raw body in, (HTTP status, JSON value, methods called) out."""

    def answer(
        self, body: bytes, knobs: Knobs | None = None, behind: Lag | None = None
    ) -> tuple[int, Payload, list[str]]: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    wbufsize = -1  # buffered: headers and body leave in one write (flushed per request)
    timeout = 300  # idle keep-alive connections do not hold a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, payload: Payload, *, allow: bool = False) -> None:
        """Answer ``payload`` as JSON (``None``: an empty body, as geth answers notifications)."""
        body = b""
        if payload is not None:
            try:
                body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
            except ValueError:  # a non-finite number slipped into an answer: never send bad JSON
                body = json.dumps(error_answer(InternalError("unencodable answer"))).encode()
        self.send_response(status)
        if allow:
            self.send_header("Allow", "POST, OPTIONS")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, status: int, error: DevnetError, *, allow: bool = False) -> None:
        self._send(status, error_answer(error), allow=allow)

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._refuse(405, InvalidRequestError("use POST"), allow=True)

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_HEAD(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "POST, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._refuse(411, InvalidRequestError("Content-Length required"))
            return
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._refuse(413, InvalidRequestError("request too large"))
            return
        body = self.rfile.read(length)
        knobs = self.server.knobs
        status, payload, methods = self.server.methods.answer(body, knobs, knobs._take_lag())
        knobs._count(len(methods))
        if methods and knobs._take_drop(methods):
            # Executed, but the answer is lost: hang up before writing anything.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(status, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], methods: Answering, knobs: Knobs) -> None:
        self.methods = methods
        self.knobs = knobs
        self._connections: set[Any] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every open (keep-alive) connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are not the server's problem; keep stderr quiet.
        logger.debug("connection from %s failed", client_address, exc_info=True)
