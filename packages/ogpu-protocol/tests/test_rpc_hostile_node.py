"""A JSON-RPC node is untrusted input: hostile answers raise typed errors, never crash.

One small configurable server (:class:`HostileNode`, real loopback socket) plays the node:
nested JSON, slow drips, huge answers, gzip bombs, error members of the wrong type, and nodes
that refuse batches in the ways real ones do (a single error object, HTTP 413, answers without
ids). Also: credentials in RPC URLs never show in messages or reprs.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ogpu.chain import ChainConfig
from ogpu.chain._rpc import RpcClient, RpcErrorObject, forget_batch_limits, hex_int
from ogpu.types import InvalidRpcUrlError, RpcResponseTooLargeError, TxRpcError

NESTED = b"[" * 300_000  # deep enough to overflow the C stack with a raised recursion limit

#: What the node does with one decoded request body: (status, headers, body chunks, pause
#: between chunks in seconds).
Behaviour = Callable[[Any], tuple[int, dict[str, str], list[bytes], float]]


def _json(obj: Any, status: int = 200) -> tuple[int, dict[str, str], list[bytes], float]:
    return status, {"Content-Type": "application/json"}, [json.dumps(obj).encode()], 0.0


def _echo(payload: Any) -> tuple[int, dict[str, str], list[bytes], float]:
    """A well-behaved node: every call answers its own id with ``"0x1"``."""
    if isinstance(payload, list):
        return _json([{"jsonrpc": "2.0", "id": p["id"], "result": "0x1"} for p in payload])
    return _json({"jsonrpc": "2.0", "id": payload["id"], "result": "0x1"})


class HostileNode:
    """A loopback HTTP server answering JSON-RPC POSTs with ``behaviour``; counts POSTs and
    records each body's batch size (None for a single call)."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.sizes: list[int | None] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payload = json.loads(body)
                node.sizes.append(len(payload) if isinstance(payload, list) else None)
                status, headers, chunks, pause = node.behaviour(payload)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
                self.end_headers()
                try:
                    for chunk in chunks:
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        if pause:
                            time.sleep(pause)
                except OSError:
                    self.close_connection = True

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node() -> Iterator[Callable[[Behaviour], HostileNode]]:
    """Start hostile nodes (stopped after the test; learnt batch limits forgotten)."""
    started: list[HostileNode] = []

    def start(behaviour: Behaviour) -> HostileNode:
        started.append(HostileNode(behaviour))
        return started[-1]

    try:
        yield start
    finally:
        for server in started:
            server.close()
        forget_batch_limits()


def test_deeply_nested_answer_is_a_typed_error(node: Any) -> None:
    hostile = node(lambda p: (200, {}, [NESTED], 0.0))
    # py-evm (loaded by the devnet plugin) raises the recursion limit, as user processes may.
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100_000))
    client = RpcClient(hostile.url, timeout=5.0)
    try:
        with pytest.raises(TxRpcError) as err:
            client.request("eth_chainId", [])
        assert "unparsable" in str(err.value)
    finally:
        client.close()
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("where", ["body", "headers"])
def test_timeout_bounds_the_whole_call_against_a_slow_drip(node: Any, where: str) -> None:
    answer = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x1"}).encode()

    def drip(payload: Any) -> tuple[int, dict[str, str], list[bytes], float]:
        if where == "headers":  # stall before the status line's end: 1 byte every 0.2 s
            return 200, {"X-Slow": "x" * 300}, [answer], 0.0
        return 200, {"Content-Length": str(len(answer))}, [bytes([b]) for b in answer], 0.2

    hostile = node(drip)
    if where == "headers":
        # Drip the headers themselves: wrap the handler's writes byte by byte.
        original = hostile.server.RequestHandlerClass

        class SlowHeaders(original):  # type: ignore[misc, valid-type]
            def end_headers(self) -> None:
                data = b"".join(self._headers_buffer)
                self._headers_buffer = []
                for i in range(len(data)):
                    self.wfile.write(data[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)

        hostile.server.RequestHandlerClass = SlowHeaders
    client = RpcClient(hostile.url, timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(TxRpcError, match="timed out"):
            client.request("eth_chainId", [])
    finally:
        client.close()
    # The drip would take well over a minute; the call ends at its deadline.
    assert time.monotonic() - started < 10


def test_answer_larger_than_the_cap_is_a_typed_error(node: Any) -> None:
    big = json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x" + "ab" * 600_000}).encode()
    hostile = node(lambda p: (200, {"Content-Type": "application/json"}, [big], 0.0))
    client = RpcClient(hostile.url, timeout=10.0, max_response_bytes=1_000_000)
    try:
        with pytest.raises(RpcResponseTooLargeError) as err:
            client.request("eth_chainId", [])
        assert err.value.limit == 1_000_000
        # Below the cap the same answer is fine.
        roomy = RpcClient(hostile.url, timeout=10.0, max_response_bytes=2_000_000)
        assert roomy.request("eth_chainId", []).startswith("0xabab")
        roomy.close()
    finally:
        client.close()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_is_refused_without_inflating_it(node: Any, encoding: str) -> None:
    # ~1 MiB compressed, 1 GiB of JSON whitespace decoded: after a full flush the compressor
    # forgets its history, so one compressed MiB of spaces can be repeated (the trailer's
    # checksum is wrong, but a client must stop long before reaching it).
    packer = zlib.compressobj(9, zlib.DEFLATED, 31 if encoding == "gzip" else 15)
    head = packer.compress(b'{"jsonrpc":"2.0","id":1,"result":"0x1"}') + packer.flush(
        zlib.Z_FULL_FLUSH
    )
    segment = packer.compress(b" " * (1 << 20)) + packer.flush(zlib.Z_FULL_FLUSH)
    body = head + segment * 1024 + packer.flush()
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    hostile = node(lambda p: (200, headers, [body], 0.0))
    client = RpcClient(hostile.url, timeout=20.0, max_response_bytes=4_000_000)
    try:
        with pytest.raises(RpcResponseTooLargeError):
            client.request("eth_chainId", [])
    finally:
        client.close()
    # A small compressed answer decodes normally.
    small = gzip.compress(json.dumps({"jsonrpc": "2.0", "id": 1, "result": "0x2"}).encode())
    fine = node(lambda p: (200, {"Content-Encoding": "gzip"}, [small], 0.0))
    client = RpcClient(fine.url, timeout=5.0)
    try:
        assert client.request("eth_chainId", []) == "0x2"
    finally:
        client.close()


def test_error_members_of_the_wrong_type_are_typed_errors(node: Any) -> None:
    def answer(payload: Any) -> tuple[int, dict[str, str], list[bytes], float]:
        if isinstance(payload, list):
            return _json([{"jsonrpc": "2.0", "id": p["id"], "error": "boom"} for p in payload])
        return _json({"jsonrpc": "2.0", "id": payload["id"], "error": 42})

    hostile = node(answer)
    client = RpcClient(hostile.url, timeout=5.0)
    try:
        first, second = client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
        assert isinstance(first, RpcErrorObject) and first.message == "boom"
        with pytest.raises(TxRpcError, match="boom"):
            hex_int(second)
        with pytest.raises(TxRpcError, match="42"):
            client.request("eth_chainId", [])
    finally:
        client.close()


def _refusing(kind: str, limit: int) -> Behaviour:
    def answer(payload: Any) -> tuple[int, dict[str, str], list[bytes], float]:
        if not isinstance(payload, list) or len(payload) <= limit:
            return _echo(payload)
        if kind == "error-object":
            return _json(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32600, "message": "batch too large"},
                }
            )
        if kind == "http-413":
            return 413, {"Content-Type": "text/plain"}, [b"Request Entity Too Large"], 0.0
        # "no-ids": a proxy that answers batches but drops the ids
        return _json([{"jsonrpc": "2.0", "result": "0x1"} for _ in payload])

    return answer


@pytest.mark.parametrize(
    ("kind", "limit"), [("error-object", 0), ("error-object", 4), ("http-413", 4), ("no-ids", 0)]
)
def test_a_node_refusing_batches_gets_smaller_ones_and_it_is_remembered(
    node: Any, kind: str, limit: int
) -> None:
    hostile = node(_refusing(kind, limit))
    client = RpcClient(hostile.url, timeout=10.0)
    calls = [("eth_getBalance", [f"0x{i:040x}", "latest"]) for i in range(20)]
    try:
        assert client.batch(calls) == ["0x1"] * 20
        learnt = client.batch_limit
        assert 1 <= learnt <= max(limit, 1)
        # Remembered per endpoint: a second client of the same URL sends no refused batch.
        hostile.sizes.clear()
        other = RpcClient(hostile.url, timeout=10.0)
        assert other.batch(calls) == ["0x1"] * 20
        other.close()
        assert all(size is None or size <= max(limit, 1) for size in hostile.sizes)
        if learnt == 1:
            assert hostile.sizes == [None] * 20  # single requests only
    finally:
        client.close()


def test_calls_per_post_are_capped(node: Any) -> None:
    hostile = node(_echo)
    client = RpcClient(hostile.url, timeout=10.0, max_batch=7)
    try:
        assert client.batch([("eth_chainId", [])] * 20) == ["0x1"] * 20
        assert hostile.sizes == [7, 7, 6]
    finally:
        client.close()


SECRET_URL = "http://alice:s3cr3t-pass@127.0.0.1:{port}/v3/0123456789abcdef0123?apikey=TOPSECRET"


def _assert_clean(text: str) -> None:
    for secret in ("s3cr3t-pass", "alice", "TOPSECRET", "0123456789abcdef0123"):
        assert secret not in text, text


def test_credentials_in_rpc_urls_are_redacted(node: Any) -> None:
    # A closed port: the connection error names the URL.
    probe = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = probe.server_address[1]
    probe.server_close()
    url = SECRET_URL.format(port=port)
    client = RpcClient(url, timeout=2.0)
    _assert_clean(repr(client))
    with pytest.raises(TxRpcError) as err:
        client.request("eth_chainId", [])
    _assert_clean(str(err.value))
    _assert_clean(repr(err.value))
    client.close()
    with pytest.raises(InvalidRpcUrlError) as bad:
        ChainConfig.set_rpc(url)
    _assert_clean(str(bad.value))
    # An HTTP error status from a node behind such a URL.
    hostile = node(lambda p: (502, {"Content-Type": "text/html"}, [b"<html>bad</html>"], 0.0))
    url = SECRET_URL.format(port=hostile.url.rsplit(":", 1)[1])
    client = RpcClient(url, timeout=2.0, read_retries=0)
    with pytest.raises(TxRpcError) as err:
        client.request("eth_chainId", [])
    _assert_clean(str(err.value))
    client.close()


def test_a_rate_limited_batch_is_retried_not_taken_for_a_refusal(node: Any) -> None:
    answers = iter(["limited", "ok"])

    def answer(payload: Any) -> tuple[int, dict[str, str], list[bytes], float]:
        if isinstance(payload, list) and next(answers, "ok") == "limited":
            error = {"code": -32005, "message": "rate limit exceeded, try again"}
            return _json({"jsonrpc": "2.0", "id": None, "error": error}, status=429)
        return _echo(payload)

    hostile = node(answer)
    client = RpcClient(hostile.url, timeout=10.0)
    try:
        assert client.batch([("eth_chainId", [])] * 5) == ["0x1"] * 5
        assert client.batch_limit == client.max_batch
        assert hostile.sizes == [5, 5]
    finally:
        client.close()
