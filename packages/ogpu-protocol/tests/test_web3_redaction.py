"""``ChainConfig.get_web3()``: web3.py's provider never shows the RPC URL's secrets.

A chain registered with an RPC URL carrying a user, a password, an API key in its path and
one in its query; its Web3 object talks to a real loopback server (answering, refusing with
HTTP 401) and to a closed port. The secrets must appear in no exception message, repr,
traceback text (causes included) or log record, while requests still reach the real URL.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from ogpu.chain import ChainConfig, CustomChain

KEY = "0123456789abcdef0123456789abcdef"
SECRETS = ("alice", "s3cr3t-pass", KEY, "TOPSECRET-apikey")
CONTRACTS = {name: "0x" + f"{i + 1:02x}" * 20 for i, name in enumerate(("NEXUS", "CONTROLLER", "TERMINAL", "VAULT"))}  # fmt: skip


def _url(port: int) -> str:
    return f"http://alice:s3cr3t-pass@127.0.0.1:{port}/v3/{KEY}?apikey=TOPSECRET-apikey"


def _assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text


def _assert_clean_error(exc: BaseException) -> None:
    _assert_clean(str(exc))
    _assert_clean(repr(exc))
    _assert_clean("".join(traceback.format_exception(exc)))
    seen: BaseException | None = exc
    while seen is not None:  # causes and contexts, shown or not
        _assert_clean(f"{seen!r} {seen}")
        for name in ("request", "response"):
            value = getattr(seen, name, None)
            assert value is None, f"{type(seen).__name__}.{name} quotes the URL"
        seen = seen.__cause__ or seen.__context__


class _Node:
    """A loopback JSON-RPC server: answers ``eth_blockNumber`` or refuses with 401."""

    def __init__(self) -> None:
        self.refuse = False
        self.paths: list[str] = []
        node = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                node.paths.append(self.path)
                if node.refuse:
                    raw = b"invalid API key"
                    self.send_response(401)
                else:
                    raw = json.dumps({"jsonrpc": "2.0", "id": body["id"], "result": "0x2a"})
                    raw = raw.encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def node() -> Iterator[_Node]:
    served = _Node()
    try:
        yield served
    finally:
        served.close()


@pytest.fixture
def chain_at() -> Iterator[Any]:
    handles: list[CustomChain] = []

    def register(url: str) -> CustomChain:
        handle = ChainConfig.register_chain(990_000 + len(handles), "redaction", url, CONTRACTS)
        handles.append(handle)
        return handle

    yield register
    for handle in handles:
        ChainConfig.unregister_chain(handle)


def _web3_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("web3", "urllib3", "ogpu"):
        caplog.set_level(logging.DEBUG, logger=name)


def test_answers_come_from_the_real_url_and_nothing_shows_it(
    node: _Node, chain_at: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _web3_debug_logs(caplog)
    w3 = ChainConfig.get_web3(chain_at(_url(node.port)))
    assert w3.eth.block_number == 42
    assert node.paths == [f"/v3/{KEY}?apikey=TOPSECRET-apikey"]  # the real URL was used
    for shown in (repr(w3), str(w3.provider), repr(w3.provider), w3.provider.endpoint_uri):
        _assert_clean(shown)
    assert "127.0.0.1" in str(w3.provider)  # still says where it points
    assert caplog.records, "DEBUG records were expected (web3 and urllib3 log each request)"
    for record in caplog.records:
        _assert_clean(record.getMessage())


def test_an_http_error_status_shows_no_secret_and_is_still_retried(
    node: _Node, chain_at: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _web3_debug_logs(caplog)
    w3 = ChainConfig.get_web3(chain_at(_url(node.port)))
    w3.provider.exception_retry_configuration.backoff_factor = 0.01  # type: ignore[attr-defined]
    node.refuse = True
    with pytest.raises(requests.HTTPError) as err:
        _ = w3.eth.block_number
    assert "401" in str(err.value)
    assert len(node.paths) == 5  # web3.py's own retries still recognise the error type
    _assert_clean_error(err.value)
    for record in caplog.records:
        _assert_clean(record.getMessage())
    assert not w3.is_connected()


def test_a_refused_connection_shows_no_secret(
    chain_at: Any, caplog: pytest.LogCaptureFixture
) -> None:
    _web3_debug_logs(caplog)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    w3 = ChainConfig.get_web3(chain_at(_url(port)))
    w3.provider.exception_retry_configuration = None  # type: ignore[attr-defined]
    with pytest.raises(requests.ConnectionError) as err:
        _ = w3.eth.chain_id
    assert "127.0.0.1" in str(err.value) and "***" in str(err.value)
    _assert_clean_error(err.value)
    from web3.exceptions import ProviderConnectionError

    with pytest.raises(ProviderConnectionError) as shown:
        w3.is_connected(show_traceback=True)
    _assert_clean_error(shown.value)
    for record in caplog.records:
        _assert_clean(record.getMessage())
