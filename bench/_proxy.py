"""A loopback HTTP proxy that adds a fixed delay to every request and counts them by phase.

Everything the SDKs under test send goes through it: ``/rpc`` is forwarded to the JSON-RPC
node, every other path (``/file/create``, ``/ipfs/CID``) to the pinning service. A client
(or the harness) names the current phase with ``POST /_phase/NAME`` (not delayed, not
counted); every later request is counted under that phase until the next one. The delay
stands for the round trip to a remote public RPC or a distant gateway: concurrent requests
wait concurrently, as they would on a real network.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
import time
import urllib.parse
from collections import defaultdict
from typing import Any

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class PhaseCounts:
    """Requests seen in one phase: HTTP requests per kind and JSON-RPC calls (batch members)."""

    def __init__(self) -> None:
        self.rpc_requests = 0
        self.rpc_calls = 0
        self.ipfs_requests = 0

    @property
    def requests(self) -> int:
        """Every HTTP request of the phase (JSON-RPC and IPFS)."""
        return self.rpc_requests + self.ipfs_requests

    def as_dict(self) -> dict[str, int]:
        """JSON-friendly form."""
        return {
            "http_requests": self.requests,
            "rpc_requests": self.rpc_requests,
            "rpc_calls": self.rpc_calls,
            "ipfs_requests": self.ipfs_requests,
        }


class CountingProxy:
    """Forward ``/rpc`` to ``rpc_url`` and everything else to ``ipfs_base`` after ``delay`` s."""

    def __init__(self, rpc_url: str, ipfs_base: str, delay: float) -> None:
        self.delay = delay
        self.phase = "setup"
        self.counts: defaultdict[str, PhaseCounts] = defaultdict(PhaseCounts)
        self._lock = threading.Lock()
        rpc = urllib.parse.urlsplit(rpc_url)
        ipfs = urllib.parse.urlsplit(ipfs_base)
        upstreams = {
            "rpc": (rpc.hostname or "127.0.0.1", rpc.port or 80, rpc.path or "/"),
            "ipfs": (ipfs.hostname or "127.0.0.1", ipfs.port or 80, ""),
        }
        outer = self
        local = threading.local()

        def upstream(kind: str) -> http.client.HTTPConnection:
            conns = getattr(local, "conns", None)
            if conns is None:
                conns = local.conns = {}
            conn = conns.get(kind)
            if conn is None:
                host, port, _ = upstreams[kind]
                conn = conns[kind] = http.client.HTTPConnection(host, port, timeout=120)
            return conn  # type: ignore[no-any-return]

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = -1

            def _forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                if method == "POST" and self.path.startswith("/_phase/"):
                    outer.set_phase(urllib.parse.unquote(self.path[len("/_phase/") :]))
                    self._answer(200, {"Content-Type": "text/plain"}, b"ok")
                    return
                kind = "rpc" if self.path == "/rpc" or self.path.startswith("/rpc/") else "ipfs"
                outer._count(kind, body)
                time.sleep(outer.delay)
                path = upstreams["rpc"][2] if kind == "rpc" else self.path
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                for attempt in (1, 2):  # a kept-alive upstream connection may have been closed
                    conn = upstream(kind)
                    try:
                        conn.request(method, path, body=body or None, headers=headers)
                        up = conn.getresponse()
                        data = up.read()
                        break
                    except (OSError, http.client.HTTPException):
                        conn.close()
                        getattr(local, "conns", {}).pop(kind, None)
                        if attempt == 2:
                            raise
                out = {k: v for k, v in up.getheaders() if k.lower() not in _HOP_BY_HOP}
                self._answer(up.status, out, data)

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                self._forward("POST")

            def do_GET(self) -> None:
                self._forward("GET")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.rpc_url = self.base + "/rpc"
        self.publish_url = self.base + "/file/create"
        self.gateway_url = self.base + "/ipfs"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _count(self, kind: str, body: bytes) -> None:
        calls = 0
        if kind == "rpc":
            try:
                decoded = json.loads(body)
                calls = len(decoded) if isinstance(decoded, list) else 1
            except ValueError:
                calls = 1
        with self._lock:
            c = self.counts[self.phase]
            if kind == "rpc":
                c.rpc_requests += 1
                c.rpc_calls += calls
            else:
                c.ipfs_requests += 1

    def set_phase(self, name: str) -> None:
        """Count later requests under ``name``."""
        with self._lock:
            self.phase = name

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def set_phase(proxy_base: str, name: str) -> None:
    """Tell the proxy at ``proxy_base`` that phase ``name`` starts (from any process)."""
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(proxy_base).netloc, timeout=10)
    try:
        conn.request("POST", "/_phase/" + urllib.parse.quote(name, safe=""), body=b"")
        conn.getresponse().read()
    finally:
        conn.close()
