"""Hostile servers of the catalogue, built on the project's existing fault proxies.

``TamperProxy`` extends :class:`ogpu_devnet.testing.FaultProxy`: every answer the devnet gives passes
through ``tamper(request, answer) -> answer`` on its way back, and ``answer_with`` replaces
the next answers with canned bytes and headers (an HTML page, a gzip bomb). Faults on the
pinning service and the gateway use the mock service's own knobs (``Faults.respond_next``).
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable
from typing import Any

from ogpu_devnet.testing import FaultProxy

Tamper = Callable[[Any, bytes], bytes]


class TamperProxy(FaultProxy):
    """A FaultProxy whose forwarded answers can be rewritten or replaced by canned bytes."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.tamper: Tamper | None = None
        self._canned: list[tuple[bytes, dict[str, str]]] = []
        self._canned_lock = threading.Lock()
        proxy = self
        base = self.server.RequestHandlerClass

        class Handler(base):  # type: ignore[misc,valid-type]
            def _answer_bytes(self, answer: bytes) -> None:
                with proxy._canned_lock:
                    canned = proxy._canned.pop(0) if proxy._canned else None
                headers = {"Content-Type": "application/json"}
                if canned is not None:
                    answer, extra = canned
                    headers.update(extra)
                self.send_response(200)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server.RequestHandlerClass = Handler

    def _forward(self, body: bytes, method: Any, payload: Any) -> bytes:
        answer: bytes = super()._forward(body, method, payload)
        hook = self.tamper
        return hook(payload, answer) if hook is not None else answer

    def answer_with(self, body: bytes, headers: dict[str, str] | None = None, n: int = 1) -> None:
        """Replace the next ``n`` answers (after forwarding) with ``body`` and ``headers``."""
        with self._canned_lock:
            self._canned.extend([(body, dict(headers or {}))] * n)


def gzip_bomb(decoded_size: int) -> bytes:
    """``decoded_size`` bytes of spaces, gzip-compressed (about 1,000 times smaller)."""
    return gzip.compress(b" " * decoded_size, compresslevel=9)


HTML = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>"


def batch_tamper(
    edit: Callable[[list[dict[str, Any]], list[dict[str, Any]]], list[Any]],
) -> Tamper:
    """A tamper hook that rewrites batch answers: ``edit(requests, answers) -> answers``."""

    def hook(payload: Any, answer: bytes) -> bytes:
        if not isinstance(payload, list):
            return answer
        items = json.loads(answer)
        return json.dumps(edit(payload, items)).encode()

    return hook
