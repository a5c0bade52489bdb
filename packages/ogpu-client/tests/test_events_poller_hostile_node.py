"""The event poller against a node answering malformed logs: a typed error, not a
KeyError/TypeError (a node is untrusted input; the choice to raise is documented in
``ogpu.events._poller``)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from ogpu.chain import ChainConfig
from ogpu.events._poller import JsonRpc, stream_logs
from ogpu.types import TxRpcError

ADDRESS = "0x" + "22" * 20
TOPIC = "0x" + "ab" * 32
GOOD = {
    "blockNumber": "0x2",
    "logIndex": "0x0",
    "address": ADDRESS,
    "topics": [TOPIC],
    "data": "0x",
}


class HostileNode:
    """A JSON-RPC node over HTTP whose log answers are set per test."""

    def __init__(self) -> None:
        self.logs: Any = []
        self.block_number: Any = "0x5"
        node = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                method = request["method"]
                result: Any = {
                    "eth_newFilter": "0x1",
                    "eth_blockNumber": node.block_number,
                    "eth_getLogs": node.logs,
                    "eth_getFilterChanges": node.logs,
                    "eth_uninstallFilter": True,
                    "eth_chainId": "0x67932",
                }.get(method)
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": result})
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def node() -> Iterator[HostileNode]:
    hostile = HostileNode()
    try:
        yield hostile
    finally:
        hostile.close()


def _first(node: HostileNode) -> Any:
    chain = ChainConfig.register_chain(
        424242,
        "hostile-node",
        node.url,
        {name: ADDRESS for name in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")},
    )

    async def run() -> Any:
        stream = stream_logs(
            JsonRpc(chain), address=ADDRESS, topics=[TOPIC], from_block=0, poll_interval=0.01
        )
        try:
            return await asyncio.wait_for(stream.__anext__(), 10)
        finally:
            await stream.aclose()

    return asyncio.run(run())


def test_a_well_formed_log_is_yielded(node: HostileNode) -> None:
    node.logs = [GOOD]
    assert _first(node)["blockNumber"] == "0x2"


@pytest.mark.parametrize(
    "logs",
    [
        [{k: v for k, v in GOOD.items() if k != "blockNumber"}],
        [{**GOOD, "blockNumber": None}],
        [{**GOOD, "logIndex": "zz"}],
        [{**GOOD, "blockNumber": ["0x2"]}],
        ["a string, not a log"],
        [GOOD, 7],
        "not a list",
        {"blockNumber": "0x2"},
    ],
    ids=["no-blockNumber", "null", "bad-hex", "list", "string", "int", "answer-str", "answer-obj"],
)
def test_a_malformed_log_is_a_typed_error(node: HostileNode, logs: Any) -> None:
    node.logs = logs
    with pytest.raises(TxRpcError, match="malformed"):
        _first(node)


def test_a_malformed_block_number_is_a_typed_error(node: HostileNode) -> None:
    node.block_number = None
    with pytest.raises(TxRpcError, match="malformed eth_blockNumber"):
        _first(node)
