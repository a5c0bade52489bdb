"""Catalogue 6: fuzzing with hypothesis (pinned in constraints.txt). IPFS URL and CID parsing,
snapshot decoding of hostile node answers, and JSON-RPC request parsing on the devnet.

Examples are bounded (``max_examples``) and each one is bounded in time by the timeouts of
the calls it makes (the hypothesis ``deadline`` is a generous per-example cap, not a
measurement). Nothing here compares timings: a server that stalls shows up as a call that
does not answer within the test's deadline.
"""

from __future__ import annotations

import contextlib
import json
import math
import posixpath
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import ogpu.ipfs
import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ogpu.chain import ChainConfig, ChainId, clear_all_nonce_caches
from ogpu.ipfs import IPFSAddressError, compute_cid, parse_ipfs_url
from ogpu.ipfs._cid import decode_cid, is_cid
from ogpu.protocol import Source
from ogpu.types import OGPUError

from ._proxies import TamperProxy
from .conftest import World

CID = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
CIDV1 = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
FUZZ = settings(
    max_examples=60,
    deadline=timedelta(seconds=20),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure is reproducible
)
# More than 1,000 brackets (past the cheap count), never deeper than 1, then an unterminated
# string of escaped quotes: a string scanner that restarts at every quote is quadratic here.
HOSTILE_80K = b"[]" * 1001 + b'"' + b'\\"' * 40_000


def strict_json(body: bytes) -> Any:
    """Decode like a strict peer: NaN / Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(body, parse_constant=refuse)


# --------------------------------------------------------------------------- URLs and CIDs

segments = st.sampled_from(
    [
        "a",
        "b.json",
        "",
        ".",
        "..",
        "%2e",
        "%2e%2e",
        "%2E%2e",
        "..%2f..",
        "%2f",
        "x%00y",
        "é",
        "?q=1",
    ]
)
hosts = st.sampled_from(
    [
        "127.0.0.1", "2130706433", "0x7f000001", "017700000001", "[::1]", "[::ffff:127.0.0.1]",
        "169.254.169.254", "localhost", "gateway.example", f"{CIDV1}.ipfs.gateway.example",
        "ipfs.io@127.0.0.1", "user:pass@gateway.example", "",
    ]
)  # fmt: skip
schemes = st.sampled_from(["http", "https", "ipfs", "file", "data", "javascript", "gopher", ""])
cids = st.one_of(st.sampled_from([CID, CIDV1]), st.text(max_size=60))


@st.composite
def ipfs_like(draw: Any) -> str:
    scheme = draw(schemes)
    cid = draw(cids)
    path = "/".join(draw(st.lists(segments, max_size=4)))
    tail = f"/{path}" if path else ""
    if scheme == "ipfs":
        return f"ipfs://{cid}{tail}"
    if scheme == "":
        return draw(st.sampled_from([f"{cid}{tail}", f"/ipfs/{cid}{tail}"]))
    port = draw(st.sampled_from(["", ":8080", ":0", ":99999"]))
    return f"{scheme}://{draw(hosts)}{port}/ipfs/{cid}{tail}"


@FUZZ
@given(st.one_of(ipfs_like(), st.text(max_size=200)))
def test_ipfs_addresses_parse_to_a_cid_or_raise_the_typed_error(text: str) -> None:
    try:
        address = parse_ipfs_url(text)
    except IPFSAddressError as exc:
        assert str(exc)
        return
    assert is_cid(address.cid)
    assert text.split(":", 1)[0].lower() not in ("file", "data", "javascript", "gopher")
    for segment in address.path.split("/"):
        assert unquote(segment) not in (".", "..")


@FUZZ
@given(ipfs_like())
@example(f"ipfs://{CID}/..%2f..%2fadmin")
def test_no_parsed_path_climbs_out_of_its_cid(text: str) -> None:
    try:
        address = parse_ipfs_url(text)
    except IPFSAddressError:
        return
    root = f"/ipfs/{address.cid}"
    resolved = posixpath.normpath(root + unquote(address.path))
    assert resolved == root or resolved.startswith(root + "/"), (text, resolved)


@FUZZ
@given(st.binary(max_size=3000))
def test_every_cid_computed_parses_back(data: bytes) -> None:
    cid = compute_cid(data)
    assert parse_ipfs_url(cid) == (cid, "")
    assert parse_ipfs_url(f"ipfs://{cid}/") == (cid, "")
    decoded = decode_cid(cid)
    assert decoded.text == cid
    # one character changed: not a CID, or another CID, never this one
    flipped = cid[:-1] + ("a" if cid[-1] != "a" else "b")
    with contextlib.suppress(IPFSAddressError):
        assert decode_cid(flipped).multihash != decoded.multihash


# --------------------------------------------------------------------------- snapshots

json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.text(max_size=20),
        st.binary(max_size=200).map(lambda b: "0x" + b.hex()),
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=10,
)  # fmt: skip


@pytest.fixture(scope="module")
def module_proxy(world: World) -> Iterator[TamperProxy]:
    proxy = TamperProxy(world.devnet.rpc_url)
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=proxy.url)
    clear_all_nonce_caches()
    try:
        yield proxy
    finally:
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=world.devnet.rpc_url)
        proxy.close()


@FUZZ
@given(st.lists(json_values, min_size=1, max_size=8), st.integers(0, 7))
def test_hostile_snapshot_answers_decode_or_raise_typed(
    world: World, module_proxy: TamperProxy, results: list[Any], start: int
) -> None:
    """The node answers the snapshot batch's eth_calls with arbitrary JSON values."""

    def tamper(payload: Any, answer: bytes) -> bytes:
        if not isinstance(payload, list):
            return answer
        items = json.loads(answer)
        for k, item in enumerate(items):
            if "result" in item:
                item["result"] = results[(start + k) % len(results)]
        return json.dumps(items).encode()

    module_proxy.tamper = tamper
    try:
        snapshot = Source(world.source.address).snapshot()
    except OGPUError:
        return
    finally:
        module_proxy.tamper = None
    assert snapshot is not None


# --------------------------------------------------------------------------- the devnet's JSON-RPC

METHODS = [
    "eth_chainId", "eth_blockNumber", "eth_getBalance", "eth_call", "eth_getLogs",
    "eth_getTransactionCount", "eth_getTransactionReceipt", "eth_sendRawTransaction",
    "eth_estimateGas", "eth_getBlockByNumber", "eth_newFilter", "eth_getFilterChanges",
    "eth_uninstallFilter", "net_version", "web3_clientVersion", "no_such_method", "",
]  # fmt: skip
finite = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
)  # fmt: skip
params = st.recursive(
    finite,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@st.composite
def rpc_request(draw: Any) -> Any:
    request: dict[str, Any] = {}
    if draw(st.booleans()):
        request["jsonrpc"] = draw(st.sampled_from(["2.0", "1.0", 2, None]))
    if draw(st.integers(0, 4)):
        request["id"] = draw(finite)
    request["method"] = draw(st.one_of(st.sampled_from(METHODS), finite))
    if draw(st.booleans()):
        request["params"] = draw(params)
    return request


bodies = st.one_of(
    st.binary(max_size=300),
    rpc_request().map(lambda r: json.dumps(r).encode()),
    st.lists(rpc_request(), min_size=1, max_size=5).map(lambda r: json.dumps(r).encode()),
    params.map(lambda p: json.dumps(p).encode()),
)


def check_answer(answer: Any) -> None:
    items = answer if isinstance(answer, list) else [answer]
    for item in items:
        assert isinstance(item, dict), answer
        assert item.get("jsonrpc") == "2.0", answer
        assert ("result" in item) != ("error" in item), answer
        if "error" in item:
            error = item["error"]
            assert isinstance(error["code"], int) and isinstance(error["message"], str)


@pytest.fixture(scope="module")
def rpc_url(devnet: Any) -> Iterator[str]:
    """A devnet of this module's own (fuzzed requests may change its state)."""
    from ogpu_devnet import Devnet

    with Devnet() as mine:
        yield mine.rpc_url


@FUZZ
@given(bodies)
@example(b"")
@example(b"{")
@example(b"[]")
@example(b"[" * 5000)
@example(b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {}}')
def test_malformed_requests_get_json_rpc_errors_and_the_server_keeps_serving(
    rpc_url: str, body: bytes
) -> None:
    with requests.Session() as session:
        resp = session.post(
            rpc_url, data=body, headers={"Content-Type": "application/json"}, timeout=20
        )
        if resp.content.strip():  # notifications only: nothing to answer
            check_answer(strict_json(resp.content))
        probe = {"jsonrpc": "2.0", "id": 7, "method": "eth_chainId", "params": []}
        answer = session.post(rpc_url, json=probe, timeout=20).json()
    assert answer["id"] == 7 and int(answer["result"], 16) > 0


@pytest.mark.parametrize("raw_id", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_ids_get_a_json_answer(rpc_url: str, raw_id: str) -> None:
    body = f'{{"jsonrpc": "2.0", "id": {raw_id}, "method": "eth_chainId", "params": []}}'
    resp = requests.post(rpc_url, data=body, timeout=20)
    answer = strict_json(resp.content)
    assert isinstance(answer, dict) and answer.get("jsonrpc") == "2.0"
    assert not (isinstance(answer.get("id"), float) and not math.isfinite(answer["id"]))


# --------------------------------------------------------------------------- linear parsing


@pytest.mark.slow
def test_a_hostile_80_kib_body_does_not_stall_other_clients(tmp_path: Any) -> None:
    """While the devnet parses a hostile body, another client is still answered within the
    test's deadline. The devnet runs in a process of its own, killed at the end, so a
    server stuck in a parse does not keep burning CPU after the test."""
    code = (
        "import time\nfrom ogpu_devnet import Devnet\n"
        "d = Devnet().start()\nprint(d.rpc_url, flush=True)\ntime.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        head = (
            f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(HOSTILE_80K)}\r\n\r\n"
        ).encode()
        with socket.create_connection((host, int(port)), timeout=60) as hostile:
            hostile.sendall(head + HOSTILE_80K)  # the devnet reads it and starts parsing
            probe = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
            # keep asking for a while: every answer must come within the deadline
            until = time.monotonic() + 3
            while time.monotonic() < until:
                answer = requests.post(url, json=probe, timeout=5).json()
                assert int(answer["result"], 16) > 0
                time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait(30)


@pytest.mark.slow
def test_a_hostile_80_kib_document_is_refused_within_the_fetch_deadline(world: World) -> None:
    """The gateway serves a hostile JSON body: fetch_ipfs_json(deadline=3) must end (with a
    typed error) within its own deadline, checked with a generous margin. The fetch runs in a
    process of its own, killed if it overruns, so a stuck parse burns no CPU afterwards."""
    svc = world.devnet.ipfs
    url = ogpu.ipfs.publish_to_ipfs({"doc": 1})
    svc.faults.respond_next(1, 200, HOSTILE_80K, path_prefix="/ipfs/")
    code = (
        "import ogpu.ipfs\n"
        "try:\n"
        f"    ogpu.ipfs.fetch_ipfs_json({url!r}, deadline=3, retries=0, cache=False)\n"
        "except ogpu.ipfs.OGPUError as e:\n"
        "    print('typed', type(e).__name__)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=15)  # the deadline, plus start-up, plus margin
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(30)
        pytest.fail("fetch_ipfs_json(deadline=3) still running after 15 s")
    finally:
        svc.faults.reset()
    assert out.startswith("typed"), out
