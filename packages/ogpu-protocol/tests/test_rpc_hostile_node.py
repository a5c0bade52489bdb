"""A JSON-RPC node is untrusted input: hostile answers raise typed errors, never crash."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ogpu.chain._rpc import RpcClient
from ogpu.types import TxRpcError

NESTED = b"[" * 300_000  # deep enough to overflow the C stack with a raised recursion limit


class _Hostile(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(NESTED)))
        self.end_headers()
        self.wfile.write(NESTED)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_deeply_nested_answer_is_a_typed_error(hostile_url: str) -> None:
    # py-evm (loaded by the devnet plugin) raises the recursion limit, as user processes may.
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100_000))
    client = RpcClient(hostile_url, timeout=5.0)
    try:
        with pytest.raises(TxRpcError) as err:
            client.request("eth_chainId", [])
        assert "unparsable" in str(err.value)
    finally:
        client.close()
        sys.setrecursionlimit(old)
