"""Catalogue 2: hostile services. Each of the three services the SDK talks to (the JSON-RPC
node, the pinning service, the IPFS gateway) answers with a compression bomb or an HTML page
with status 200; the node also lags on the pending nonce and reorders, duplicates or
corrupts batch entries. Every case ends in a typed error (or the right answer), within the
test's deadline, and never with a second transaction.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import ogpu.ipfs
import pytest
from ogpu.chain import ChainConfig, ChainId, clear_all_nonce_caches
from ogpu.protocol import Source, vault
from ogpu.types import OGPUError

from ._proxies import HTML, TamperProxy, batch_tamper, gzip_bomb
from .conftest import World

T = TypeVar("T")
DEADLINE = 60.0  # seconds: a case still running then has hung
BOMB = 64 * 1024 * 1024  # decoded bytes of each compression bomb (about 65 KiB on the wire)
SIZE_WORDS = ("too large", "exceeds", "size", "limit", "cap", "bytes")
PENDING_RPC = "pending rpc: "


def within_deadline(call: Callable[[], T]) -> T:
    """Run ``call`` in a thread; fail if it is still running after DEADLINE (a hang)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive(), f"still running after {DEADLINE} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


@pytest.fixture
def proxy(world: World) -> Iterator[TamperProxy]:
    """A tampering proxy in front of the devnet; the SDK's devnet RPC goes through it."""
    p = TamperProxy(world.devnet.rpc_url)
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=p.url)
    clear_all_nonce_caches()
    try:
        yield p
    finally:
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=world.devnet.rpc_url)
        clear_all_nonce_caches()
        p.close()


# --------------------------------------------------------------------------- the node


def test_rpc_gzip_bomb_is_a_typed_size_error(world: World, proxy: TamperProxy) -> None:
    proxy.answer_with(gzip_bomb(BOMB), {"Content-Encoding": "gzip"})
    with pytest.raises(OGPUError) as info:
        within_deadline(lambda: vault.get_balance_of(world.client))
    assert any(w in str(info.value).lower() for w in SIZE_WORDS), str(info.value)


def test_rpc_html_200_is_a_typed_error(world: World, proxy: TamperProxy) -> None:
    proxy.answer_with(HTML, {"Content-Type": "text/html"})
    with pytest.raises(OGPUError) as info:
        within_deadline(lambda: vault.get_balance_of(world.client))
    assert "JSON-RPC" in str(info.value)
    assert vault.get_balance_of(world.client) > 0  # the next call is served normally


def test_rpc_html_200_on_send_sends_once(world: World, proxy: TamperProxy) -> None:
    """The node takes the transaction, then an HTML page comes back instead of its hash."""
    before_nonce = world.w3.eth.get_transaction_count(world.client)
    before = vault.get_balance_of(world.client)
    proxy.tamper = lambda payload, answer: (
        HTML if isinstance(payload, dict) and payload.get("method") == "eth_sendRawTransaction"
        else answer
    )  # fmt: skip
    with contextlib.suppress(OGPUError):  # a typed "outcome unknown" is fine; a second tx is not
        within_deadline(lambda: vault.deposit(world.client, 1, signer=world.client_key))
    proxy.tamper = None
    world.w3.provider.make_request("evm_mine", [])
    assert world.w3.eth.get_transaction_count(world.client) - before_nonce == 1
    assert vault.get_balance_of(world.client) - before == 1


def test_stale_pending_nonce_sends_exactly_once(world: World, proxy: TamperProxy) -> None:
    """A lagging replica answers the pending count one too low, twice."""
    stale = {"left": 2}

    def lag(entry: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        if request.get("method") == "eth_getTransactionCount" and stale["left"] > 0:
            value = int(entry["result"], 16)
            if value > 0:
                stale["left"] -= 1
                return {**entry, "result": hex(value - 1)}
        return entry

    def tamper(payload: Any, answer: bytes) -> bytes:
        if isinstance(payload, dict):
            return json.dumps(lag(json.loads(answer), payload)).encode()
        by_id = {r["id"]: r for r in payload}
        return json.dumps([lag(e, by_id.get(e.get("id"), {})) for e in json.loads(answer)]).encode()

    before_nonce = world.w3.eth.get_transaction_count(world.client)
    before = vault.get_balance_of(world.client)
    proxy.tamper = tamper
    try:
        within_deadline(lambda: vault.deposit(world.client, 7, signer=world.client_key))
        paid = 7
    except OGPUError:
        paid = 0
    proxy.tamper = None
    assert stale["left"] < 2, "the lag was never applied"
    assert world.w3.eth.get_transaction_count(world.client) - before_nonce == (1 if paid else 0)
    assert vault.get_balance_of(world.client) - before == paid


def test_reordered_batch_entries_are_matched_by_id(world: World, proxy: TamperProxy) -> None:
    direct = Source(world.source.address).snapshot()
    proxy.tamper = batch_tamper(lambda requests, answers: list(reversed(answers)))
    through = within_deadline(lambda: Source(world.source.address).snapshot())
    assert through == direct


def test_identical_duplicates_in_a_batch_are_harmless(world: World, proxy: TamperProxy) -> None:
    direct = Source(world.source.address).snapshot()
    proxy.tamper = batch_tamper(lambda requests, answers: answers + answers)
    assert within_deadline(lambda: Source(world.source.address).snapshot()) == direct


def test_conflicting_duplicates_in_a_batch_are_a_typed_error(
    world: World, proxy: TamperProxy
) -> None:
    """Two different answers under one id: the SDK cannot know which is true."""

    def forge(requests: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[Any]:
        first = answers[0]
        forged = {**first, "result": "0x" + "00" * 32 * 8}
        return [*answers, forged]

    proxy.tamper = batch_tamper(forge)
    with pytest.raises(OGPUError) as info:
        within_deadline(lambda: Source(world.source.address).snapshot())
    assert "batch" in str(info.value)


def test_batch_entry_with_a_string_error_is_typed(world: World, proxy: TamperProxy) -> None:
    proxy.tamper = batch_tamper(
        lambda requests, answers: [
            {"jsonrpc": "2.0", "id": a["id"], "error": "boom"} for a in answers
        ]
    )
    with pytest.raises(OGPUError):
        within_deadline(lambda: Source(world.source.address).snapshot())


# --------------------------------------------------------------------------- pinning, gateway


def test_pinning_gzip_bomb_is_a_typed_error(world: World) -> None:
    svc = world.devnet.ipfs
    svc.faults.respond_next(
        1, 200, gzip_bomb(BOMB), path_prefix="/file/create", headers={"Content-Encoding": "gzip"}
    )
    try:
        with pytest.raises(OGPUError):
            within_deadline(lambda: ogpu.ipfs.publish_to_ipfs({"bomb": 1}, retries=0))
    finally:
        svc.faults.reset()


def test_pinning_html_200_is_a_typed_error(world: World) -> None:
    svc = world.devnet.ipfs
    svc.faults.respond_next(1, 200, HTML, content_type="text/html", path_prefix="/file/create")
    try:
        with pytest.raises(ogpu.ipfs.IPFSGatewayError):
            within_deadline(lambda: ogpu.ipfs.publish_to_ipfs({"html": 1}, retries=0))
    finally:
        svc.faults.reset()


def test_gateway_gzip_bomb_is_a_typed_size_error(world: World) -> None:
    svc = world.devnet.ipfs
    url = ogpu.ipfs.publish_to_ipfs({"fine": True})
    ogpu.ipfs.clear_cache()
    svc.faults.respond_next(
        1, 200, gzip_bomb(BOMB), path_prefix="/ipfs/", headers={"Content-Encoding": "gzip"}
    )
    try:
        with pytest.raises(ogpu.ipfs.IPFSTooLargeError):
            within_deadline(
                lambda: ogpu.ipfs.fetch_ipfs_json(url, retries=0, max_bytes=1024 * 1024)
            )
    finally:
        svc.faults.reset()


def test_gateway_html_200_is_a_typed_error(world: World) -> None:
    svc = world.devnet.ipfs
    url = ogpu.ipfs.publish_to_ipfs({"fine": "html"})
    ogpu.ipfs.clear_cache()
    svc.faults.respond_next(1, 200, HTML, content_type="text/html", path_prefix="/ipfs/")
    try:
        with pytest.raises(ogpu.ipfs.IPFSError):
            within_deadline(lambda: ogpu.ipfs.fetch_ipfs_json(url, retries=0))
        # verified fetches catch the same page as a CID mismatch
        svc.faults.respond_next(1, 200, HTML, content_type="text/html", path_prefix="/ipfs/")
        with pytest.raises(ogpu.ipfs.IPFSIntegrityError):
            within_deadline(lambda: ogpu.ipfs.fetch_ipfs_json(url, retries=0, verify=True))
    finally:
        svc.faults.reset()
    assert ogpu.ipfs.fetch_ipfs_json(url) == {"fine": "html"}  # served normally afterwards
