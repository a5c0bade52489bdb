"""The devnet's JSON-RPC server under hostile or heavy use, and its fault knobs, over its real
socket: a burst of concurrent clients, non-finite request ids, idle filters, huge mine counts,
hostile bodies for the depth pre-scan, batch refusals, a lagging replica, a dropped answer and
the same knobs as ``ogpu-devnet serve`` flags."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from ogpu_devnet import rpc as devnet_rpc


def _strict_json(body: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"invalid JSON constant {name} in an answer")

    return json.loads(body, parse_constant=refuse)


def _raw_post(url: str, body: bytes, timeout: float = 30) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_forty_concurrent_clients_get_no_reset(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    failures: list[str] = []
    answers: list[int] = []
    lock = threading.Lock()
    for _ in range(3):
        barrier = threading.Barrier(40)

        def client(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                status, data = _raw_post(url, body)
                with lock:
                    answers.append(status)
                assert _strict_json(data)["result"] == "0x795f"
            except Exception as exc:
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=client) for _ in range(40)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert failures == []
    assert answers == [200] * 120


@pytest.mark.parametrize("request_id", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_non_finite_request_ids_are_never_echoed(devnet_isolated: Any, request_id: str) -> None:
    body = f'{{"jsonrpc":"2.0","id":{request_id},"method":"eth_chainId","params":[]}}'.encode()
    status, data = _raw_post(devnet_isolated.rpc_url, body)
    answer = _strict_json(data)
    assert status == 200
    assert answer["id"] is None and answer["error"]["code"] == -32600
    batch = f'[{body.decode()},{{"jsonrpc":"2.0","id":7,"method":"eth_chainId"}}]'.encode()
    _, data = _raw_post(devnet_isolated.rpc_url, batch)
    first, second = _strict_json(data)
    assert first["id"] is None and first["error"]["code"] == -32600
    assert second == {"jsonrpc": "2.0", "id": 7, "result": "0x795f"}


def _call(url: str, method: str, params: list[Any]) -> Any:
    return requests.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=60
    ).json()


def test_idle_filters_expire(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    methods = devnet_isolated.rpc.methods
    assert methods.filter_timeout == devnet_rpc.FILTER_TIMEOUT == 300.0
    methods.filter_timeout = 0.3
    try:
        fid = _call(url, "eth_newBlockFilter", [])["result"]
        assert _call(url, "eth_getFilterChanges", [fid])["result"] == []
        time.sleep(0.2)
        assert "result" in _call(url, "eth_getFilterChanges", [fid])  # polling keeps it alive
        time.sleep(0.2)
        assert "result" in _call(url, "eth_getFilterChanges", [fid])
        time.sleep(0.5)
        assert _call(url, "eth_getFilterChanges", [fid])["error"]["message"] == "filter not found"
    finally:
        methods.filter_timeout = devnet_rpc.FILTER_TIMEOUT


def test_mine_counts_are_bounded_and_chunked(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    cap = devnet_rpc.MAX_MINE_BLOCKS
    before = int(_call(url, "eth_blockNumber", [])["result"], 16)
    for method, params in (
        ("anvil_mine", [hex(100_000)]),
        ("hardhat_mine", [hex(cap + 1)]),
        ("evm_mine", [{"blocks": cap + 1}]),
    ):
        error = _call(url, method, params)["error"]
        assert error["code"] == -32602 and str(cap) in error["message"]
    assert int(_call(url, "eth_blockNumber", [])["result"], 16) == before
    # Above one chunk: mined in pieces, with an interval kept across the pieces.
    count = devnet_rpc.MINE_CHUNK + 5
    head_ts = int(_call(url, "eth_getBlockByNumber", ["latest", False])["result"]["timestamp"], 16)
    assert "error" not in _call(url, "anvil_mine", [hex(count), hex(10)])
    after = int(_call(url, "eth_blockNumber", [])["result"], 16)
    assert after == before + count
    last_ts = int(_call(url, "eth_getBlockByNumber", ["latest", False])["result"]["timestamp"], 16)
    assert last_ts >= head_ts + 10 * (count - 1)


HOSTILE_BODIES = {
    # unterminated escaped-quote runs: quadratic for a backtracking string regex
    "escaped-quotes-80KiB": b'"\\' * (40 * 1024) + b"[]" * 70,
    "escaped-quotes-1MiB": b'"\\' * (512 * 1024) + b"[]" * 70,
    "deep-1MiB": b"[" * (1024 * 1024),
    "strings-and-brackets-1MiB": b'["a\\"b",' * (128 * 1024) + b"]",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_bodies_get_a_json_rpc_error_and_the_server_keeps_serving(
    devnet_isolated: Any, name: str
) -> None:
    url = devnet_isolated.rpc_url
    status, data = _raw_post(url, HOSTILE_BODIES[name], timeout=60)
    answer = _strict_json(data)
    assert status == 200
    assert answer["error"]["code"] in (-32700, -32600)
    assert _call(url, "eth_chainId", [])["result"] == "0x795f"


def test_depth_pre_scan_handles_strings_and_escapes() -> None:
    too_deep = devnet_rpc._too_deep
    depth = devnet_rpc.MAX_JSON_DEPTH
    assert too_deep(b"[" * (depth + 1) + b"]" * (depth + 1))
    assert not too_deep(b"[" * depth + b"]" * depth)
    # brackets inside strings (with escaped quotes) do not count
    assert not too_deep(b'["' + b"[" * 200 + b'\\"' + b"{" * 200 + b'"]')
    assert too_deep(b'["\\"", ' + b"[" * (depth + 1))


def test_batch_refusal_knobs(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(4)]
    devnet_isolated.set_batching(no_batch=True)
    resp = requests.post(url, json=batch, timeout=10)
    assert resp.status_code == 400
    assert resp.json()["error"]["message"] == "batch requests are not supported"
    assert _call(url, "eth_chainId", [])["result"] == "0x795f"  # single calls still work
    devnet_isolated.set_batching(max_batch=3)
    answer = requests.post(url, json=batch, timeout=10).json()
    assert answer["id"] is None and answer["error"]["message"] == "batch too large (max 3)"
    assert len(requests.post(url, json=batch[:3], timeout=10).json()) == 3
    devnet_isolated.set_batching()
    assert len(requests.post(url, json=batch, timeout=10).json()) == 4


def test_lagging_replica_knob(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    acct = devnet_isolated.accounts[1]
    head = int(_call(url, "eth_blockNumber", [])["result"], 16)
    devnet_isolated.lag(4, blocks=1)
    assert int(_call(url, "eth_blockNumber", [])["result"], 16) == head - 1
    error = _call(url, "eth_getBalance", [acct.address, hex(head)])["error"]
    assert error["code"] == -32000 and error["message"] == "header not found"
    assert _call(url, "eth_getBlockByNumber", [hex(head), False])["result"] is None
    assert _call(url, "eth_getBalance", [acct.address, hex(head - 1)])["result"].startswith("0x")
    # lag over: the head is known again
    assert int(_call(url, "eth_blockNumber", [])["result"], 16) == head
    assert devnet_isolated.rpc.knobs.lag_remaining == 0


def test_drop_after_knob_executes_then_hangs_up(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    before = int(_call(url, "eth_blockNumber", [])["result"], 16)
    devnet_isolated.drop_after("evm_mine")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, OSError)):
        _raw_post(url, b'{"jsonrpc":"2.0","id":1,"method":"evm_mine","params":[]}')
    assert int(_call(url, "eth_blockNumber", [])["result"], 16) == before + 1  # it ran
    assert "result" in _call(url, "evm_mine", [])  # only once


def test_serve_flags_set_the_knobs(tmp_path: Path) -> None:
    manifest = tmp_path / "m.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
         "--manifest", str(manifest), "--max-batch", "2", "--lag", "1",
         "--drop-after", "web3_clientVersion:1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not manifest.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        url = json.loads(manifest.read_text())["rpc_url"]
        head = int(_call(url, "eth_blockNumber", [])["result"], 16)  # the lagging request
        assert head == int(_call(url, "eth_blockNumber", [])["result"], 16) - 1
        batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(3)]
        assert "batch too large (max 2)" in requests.post(url, json=batch, timeout=10).text
        body = b'{"jsonrpc":"2.0","id":1,"method":"web3_clientVersion","params":[]}'
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError, OSError)):
            _raw_post(url, body)
        assert _strict_json(_raw_post(url, body)[1])["result"].startswith("ogpu-devnet/")
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    bad = subprocess.run(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--max-batch", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "--max-batch" in bad.stderr
