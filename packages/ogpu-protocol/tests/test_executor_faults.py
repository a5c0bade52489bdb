"""The transaction executor under injected RPC faults (a real proxy socket in front of the devnet).

What is proved: an intent is never sent under two nonces (the sender's nonce advances by exactly
one per intent), lost answers are resolved by looking the signed hash up, lost requests are
re-sent as the very same bytes, underpriced sends are re-signed at the same nonce only when
nothing else holds it (never bumped over another process's transaction), permanent rejections
fail at once while transient ones are retried, a stale nonce cache is corrected by the pending
count read in the first batch (so another sender's pooled transaction is never silently
replaced; auto-mining off), a nonce taken after that read recovers, fix_nonce replaces stuck
transactions, a transaction that never mines raises TxReceiptTimeoutError, and every error
raised after signing names the transaction hash and nonce.
"""

from __future__ import annotations

import json
import pickle
import threading
import time
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from ogpu.chain import ChainConfig, NonceManager
from ogpu.chain._rpc import RpcClient, RpcTransportError
from ogpu.protocol import controller, terminal
from ogpu.types import (
    GasError,
    NonceError,
    TaskParams,
    TxError,
    TxReceiptTimeoutError,
    TxRpcError,
)

from .conftest import set_live_data


def _direct(net: Any) -> RpcClient:
    """A client that bypasses the proxy (the node's own view)."""
    return RpcClient(net.rpc_url)


def _mined_nonce(net: Any, address: str) -> int:
    return int(_direct(net).request("eth_getTransactionCount", [address, "latest"]), 16)


def _tx_nonce(raw: str) -> int:
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes

    tx = TypedTransaction.from_bytes(HexBytes(raw))
    return int(tx.as_dict()["nonce"])


def _tx_fees(raw: str) -> tuple[int, int]:
    from eth_account.typed_transactions import TypedTransaction
    from hexbytes import HexBytes

    tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    return int(tx["maxFeePerGas"]), int(tx["maxPriorityFeePerGas"])


def _hash(raw: str) -> str:
    return "0x" + keccak(hexstr=raw).hex()


def _live_data_of(net: Any, address: str) -> str:
    return str(terminal.get_live_data_of(address))


def _send_behind_the_sdks_back(net: Any, acct: Any, nonce: int, **fees: int) -> str:
    """Another process uses the same key at ``nonce`` (with auto-mining on the devnet mines it
    at once; off, it waits in the pool). ``fees`` default to a legacy 10 gwei gas price.
    Returns the hash."""
    signed = Account.from_key(acct.private_key).sign_transaction(
        {
            "to": acct.address,
            "value": 0,
            "gas": 21_000,
            "nonce": nonce,
            "chainId": ChainConfig.get_current_chain().value,
            **(fees or {"gasPrice": 10**10}),
        }
    )
    raw = "0x" + bytes(signed.raw_transaction).hex()
    return str(_direct(net).request("eth_sendRawTransaction", [raw]))


def _cheap_fees(net: Any) -> dict[str, int]:
    """EIP-1559 fees just above what the next blocks can charge (so it mines when a block is
    mined), far below the SDK's ``2 * base fee + tip``: a node would let the SDK's
    transaction replace one with these fees."""
    block = _direct(net).request("eth_getBlockByNumber", ["latest", False])
    base = int(block["baseFeePerGas"], 16)
    return {"type": 2, "maxFeePerGas": base * 9 // 8 + 2, "maxPriorityFeePerGas": 1}


def _pending_nonce(net: Any, address: str) -> int:
    return int(_direct(net).request("eth_getTransactionCount", [address, "pending"]), 16)


def _set_live_data(text: str, key: str, before_send: Any) -> Any:
    """``terminal.set_live_data`` with a hook that runs under the nonce lock, right before
    signing (after the executor read the node's pending count)."""
    from ogpu.protocol._base import write
    from ogpu.protocol._revert import RevertContext

    return write(
        "Terminal",
        "setLiveData",
        (text,),
        signer=key,
        role=None,
        ctx=lambda caller: RevertContext("Terminal.setLiveData", caller),
        before_send=before_send,
    )


def _in_background(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Run ``fn`` in a thread; its result or exception lands in the returned dict."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except BaseException as exc:  # reported by the test
            out["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _wait_for(condition: Any, thread: threading.Thread, what: str) -> None:
    """Poll ``condition`` while ``thread`` runs (bounded: a failure, not a timing check)."""
    deadline = time.monotonic() + 60
    while not condition():
        assert thread.is_alive(), f"the sender stopped before {what}"
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.02)


def _assert_names_the_transaction(err: BaseException, raw: str, nonce: int, key: str) -> None:
    """The error names the signed hash and nonce (fields and message), never key or bytes,
    and keeps them through pickle."""
    assert isinstance(err, TxError) or hasattr(err, "tx_hash")
    tx_hash = _hash(raw)
    assert getattr(err, "tx_hash", None) == tx_hash
    assert getattr(err, "nonce", None) == nonce
    text = str(err)
    assert tx_hash in text and f"nonce {nonce}" in text
    assert raw[2:] not in text.lower() and raw[2:] not in repr(err).lower()
    assert key.removeprefix("0x").lower() not in (text + repr(err)).lower()
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err) and str(clone) == text
    assert clone.tx_hash == tx_hash and clone.nonce == nonce


def test_lost_answer_is_resolved_by_hash_not_resent(net: Any, fault_proxy: Any) -> None:
    """The node accepted the tx but the answer was lost: the executor finds the hash and does
    not send the intent again."""
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", "forward_then_drop")
    receipt = set_live_data("lost-answer", signer=acct.private_key)
    assert receipt.status == 1
    assert len(fault_proxy.forwarded_raw) == 1 and len(fault_proxy.seen_raw) == 1
    assert receipt.tx_hash == "0x" + keccak(hexstr=fault_proxy.forwarded_raw[0]).hex()
    assert _mined_nonce(net, acct.address) == start + 1
    assert _live_data_of(net, acct.address) == "lost-answer"
    # the cache advanced past the used nonce: the next intent lands right after it
    set_live_data("next", signer=acct.private_key)
    assert _mined_nonce(net, acct.address) == start + 2


def test_lost_request_is_resent_as_the_same_bytes(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", "drop", "drop")
    receipt = set_live_data("lost-request", signer=acct.private_key)
    assert receipt.status == 1
    assert len(fault_proxy.seen_raw) == 3 and len(set(fault_proxy.seen_raw)) == 1
    assert fault_proxy.forwarded_raw == fault_proxy.seen_raw[-1:]
    assert _mined_nonce(net, acct.address) == start + 1


def test_transport_failures_beyond_the_retry_bound_raise(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", *["drop"] * 4)
    with pytest.raises(RpcTransportError) as err:
        set_live_data("never", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 4 and len(set(fault_proxy.seen_raw)) == 1
    assert fault_proxy.forwarded_raw == []
    # the user can check whether it went through: the error names the hash and the nonce
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, acct.private_key)
    assert _mined_nonce(net, acct.address) == start
    # nothing was left behind: the next intent takes the same nonce
    set_live_data("after", signer=acct.private_key)
    assert _mined_nonce(net, acct.address) == start + 1
    assert _tx_nonce(fault_proxy.forwarded_raw[-1]) == start


def test_transient_error_resends_the_same_bytes(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject(
        "eth_sendRawTransaction", ("error", -32005, "request rate limit exceeded, try again")
    )
    set_live_data("transient", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 2 and fault_proxy.seen_raw[0] == fault_proxy.seen_raw[1]
    assert _mined_nonce(net, acct.address) == start + 1


@pytest.mark.parametrize(
    ("code", "message", "error"),
    [
        (-32000, "exceeds block gas limit", GasError),
        (-32000, "gas limit reached", GasError),
        (-32000, "intrinsic gas too low", GasError),
        (-32000, "insufficient funds for gas * price + value", GasError),
        (-32000, "invalid sender", TxRpcError),
        (-32000, "invalid chain id for signer", TxRpcError),
    ],
)
def test_permanent_rejections_fail_at_once(
    net: Any, fault_proxy: Any, code: int, message: str, error: type[Exception]
) -> None:
    """No retry can fix these: one send, a typed error naming the transaction, no nonce used."""
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", ("error", code, message))
    with pytest.raises(error) as err:
        set_live_data("permanent", signer=acct.private_key)
    assert not isinstance(err.value, RpcTransportError)
    assert len(fault_proxy.seen_raw) == 1 and fault_proxy.forwarded_raw == []
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, acct.private_key)
    if "funds" in message:
        assert acct.address in str(err.value)
    assert _mined_nonce(net, acct.address) == start
    set_live_data("after", signer=acct.private_key)
    assert _tx_nonce(fault_proxy.forwarded_raw[-1]) == start


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (-32000, "header not found"),
        (503, "service unavailable"),
        (-32603, "request timed out"),
    ],
)
def test_transient_rejections_are_retried_with_the_same_bytes(
    net: Any, fault_proxy: Any, code: int, message: str
) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", ("error", code, message))
    set_live_data("transient", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 2 and fault_proxy.seen_raw[0] == fault_proxy.seen_raw[1]
    assert _mined_nonce(net, acct.address) == start + 1


def test_underpriced_is_resigned_at_the_same_nonce(net: Any, fault_proxy: Any) -> None:
    """Below the pool's price floor and nothing else at the nonce: bump, same nonce."""
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", ("error", -32000, "transaction underpriced"))
    receipt = set_live_data("underpriced", signer=acct.private_key)
    first, second = fault_proxy.seen_raw
    assert first != second  # re-signed with higher fees ...
    assert _tx_nonce(first) == _tx_nonce(second) == start  # ... but at the same nonce
    assert receipt.tx_hash == "0x" + keccak(hexstr=second).hex()
    assert _mined_nonce(net, acct.address) == start + 1


def test_underpriced_at_a_nonce_taken_by_another_process_moves_without_bumping(
    net: Any, fault_proxy: Any
) -> None:
    """Another process takes the nonce between the executor's read of the pending count and
    its send (``before_send`` runs in that window): the node answers "replacement
    underpriced" because *its* transaction holds the nonce. The executor must not bump over
    it; it checks that none of its own hashes is known, resyncs and re-signs at the new nonce
    with the same fees, so the intent lands once."""
    acct = net.other
    set_live_data("warm", signer=acct.private_key)  # the cache now knows the nonce
    start = _mined_nonce(net, acct.address)
    assert NonceManager.get_cached_nonce(acct.address) == start
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()
    fault_proxy.inject(
        "eth_sendRawTransaction", ("error", -32000, "replacement transaction underpriced")
    )
    receipt = _set_live_data(
        "moved", acct.private_key, lambda: _send_behind_the_sdks_back(net, acct, start)
    )
    assert [_tx_nonce(r) for r in fault_proxy.seen_raw] == [start, start + 1]
    assert _tx_fees(fault_proxy.seen_raw[0]) == _tx_fees(fault_proxy.seen_raw[1])  # no bump
    assert receipt.tx_hash == _hash(fault_proxy.seen_raw[1])
    assert _mined_nonce(net, acct.address) == start + 2
    assert _live_data_of(net, acct.address) == "moved"


def test_underpriced_answer_for_our_own_accepted_tx_sends_nothing_more(
    net: Any, fault_proxy: Any
) -> None:
    """The node holds our signed hash (it accepted it despite the error answer): the intent
    is in, so nothing is re-signed or re-sent."""
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject(
        "eth_sendRawTransaction",
        ("forward_then_error", -32000, "replacement transaction underpriced"),
    )
    receipt = set_live_data("ours", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 1
    assert receipt.tx_hash == _hash(fault_proxy.seen_raw[0])
    assert _mined_nonce(net, acct.address) == start + 1


def test_replacement_underpriced_over_an_unknown_transaction_is_refused(
    net: Any, fault_proxy: Any
) -> None:
    """A "replacement underpriced" answer says another transaction holds the nonce, but it is not ours
    and the node's pending count does not show it: bumping would replace a transaction we
    cannot prove is ours, so NonceError (naming our hash) is raised and nothing more sent."""
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject(
        "eth_sendRawTransaction", ("error", -32000, "replacement transaction underpriced")
    )
    with pytest.raises(NonceError) as err:
        set_live_data("refused", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 1
    assert err.value.tried == start
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, acct.private_key)
    assert _mined_nonce(net, acct.address) == start
    set_live_data("after", signer=acct.private_key)
    assert _mined_nonce(net, acct.address) == start + 1


def test_stale_nonce_cache_moves_to_a_fresh_nonce_once(net: Any, fault_proxy: Any) -> None:
    """Another sender used the key behind the SDK's back: the executor's first round trip
    reads the node's pending count, so the intent is signed once, at the fresh nonce (no
    rejected send at the stale one)."""
    acct = net.other
    set_live_data("warm", signer=acct.private_key)  # the cache now knows the nonce
    start = _mined_nonce(net, acct.address)
    assert NonceManager.get_cached_nonce(acct.address) == start
    _send_behind_the_sdks_back(net, acct, start)
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()
    receipt = set_live_data("after-stale", signer=acct.private_key)
    assert receipt.status == 1
    assert [_tx_nonce(r) for r in fault_proxy.seen_raw] == [start + 1]
    assert fault_proxy.forwarded_raw == fault_proxy.seen_raw
    assert _mined_nonce(net, acct.address) == start + 2
    assert NonceManager.get_cached_nonce(acct.address) == start + 2
    assert _live_data_of(net, acct.address) == "after-stale"


def test_nonce_taken_after_the_pending_read_moves_to_a_fresh_nonce_once(
    net: Any, fault_proxy: Any
) -> None:
    """Another sender takes the nonce between the executor's read of the pending count and its
    send: the node's "nonce too low" moves the intent (after checking none of its hashes is
    known), and it lands exactly once."""
    acct = net.other
    set_live_data("warm", signer=acct.private_key)
    start = _mined_nonce(net, acct.address)
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()
    receipt = _set_live_data(
        "raced", acct.private_key, lambda: _send_behind_the_sdks_back(net, acct, start)
    )
    assert receipt.status == 1
    assert [_tx_nonce(r) for r in fault_proxy.seen_raw] == [start, start + 1]
    assert len(fault_proxy.forwarded_raw) == 2  # the node rejected the first as too low
    assert receipt.tx_hash == _hash(fault_proxy.seen_raw[1])
    assert _mined_nonce(net, acct.address) == start + 2
    assert _live_data_of(net, acct.address) == "raced"


def test_stale_cache_never_replaces_another_senders_pending_transaction(
    net: Any, fault_proxy: Any
) -> None:
    """Auto-mining off: another sender's transaction waits in the pool at the nonce the SDK's
    stale cache holds, with fees the SDK's exceed by far more than the 10% a node needs to
    accept a replacement *silently* (no error). The SDK must sign at the next nonce, never at
    the pooled one; after one mined block both transactions are in it, at consecutive nonces.
    """
    acct, key = net.other, net.other.private_key
    direct = _direct(net)
    set_live_data("warm", signer=key)
    start = _mined_nonce(net, acct.address)
    assert NonceManager.get_cached_nonce(acct.address) == start
    assert direct.request("evm_setAutomine", [False]) is True  # devnet_isolated restores it
    cheap = _cheap_fees(net)
    foreign = _send_behind_the_sdks_back(net, acct, start, **cheap)
    assert (_mined_nonce(net, acct.address), _pending_nonce(net, acct.address)) == (
        start,
        start + 1,
    )
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()

    thread, out = _in_background(lambda: set_live_data("not-a-replacement", signer=key))
    _wait_for(lambda: bool(fault_proxy.forwarded_raw), thread, "the SDK's transaction")
    # the SDK's fees would clear a node's replacement bar over the pooled transaction ...
    max_fee, tip = _tx_fees(fault_proxy.seen_raw[0])
    assert max_fee * 10 >= cheap["maxFeePerGas"] * 11 and tip * 10 >= 11
    # ... so it must not have been signed at the pooled transaction's nonce
    assert [_tx_nonce(r) for r in fault_proxy.seen_raw] == [start + 1]
    assert _pending_nonce(net, acct.address) == start + 2  # both wait in the pool
    direct.request("evm_mine", [])
    thread.join(60)
    assert not thread.is_alive() and "error" not in out, out.get("error")
    receipt = out["result"]
    assert receipt.status == 1 and receipt.tx_hash == _hash(fault_proxy.seen_raw[0])

    theirs = direct.request("eth_getTransactionReceipt", [foreign])
    assert theirs is not None and int(theirs["status"], 16) == 1  # not replaced
    assert int(theirs["blockNumber"], 16) == receipt.block_number
    mined = direct.batch([("eth_getTransactionByHash", [h]) for h in (foreign, receipt.tx_hash)])
    assert [int(tx["nonce"], 16) for tx in mined] == [start, start + 1]
    assert _mined_nonce(net, acct.address) == start + 2
    assert NonceManager.get_cached_nonce(acct.address) == start + 2
    assert _live_data_of(net, acct.address) == "not-a-replacement"


def test_receipt_timeout_then_recovery(net: Any, fault_proxy: Any) -> None:
    """A node that loses the tx: TxReceiptTimeoutError names the hash; the next intent still
    lands at the right nonce: the timeout drops the nonce cache (a node queues a future nonce
    behind the gap, as geth does, so signing after the lost nonce would never mine)."""
    source = net.publish_source()
    net.fund_client()
    client = net.client
    start = _mined_nonce(net, client.address)
    params = TaskParams(
        source=source.address, config="ipfs://x", expiryTime=net.now() + 600, payment=100
    )
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()
    fault_proxy.inject("eth_sendRawTransaction", "swallow")
    with pytest.raises(TxReceiptTimeoutError) as err:
        controller.publish_task(params, signer=client.private_key, receipt_timeout=0.5)
    assert err.value.timeout == 0.5
    assert err.value.tx_hash == "0x" + keccak(hexstr=fault_proxy.seen_raw[0]).hex()
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, client.private_key)
    assert fault_proxy.forwarded_raw == []
    assert _mined_nonce(net, client.address) == start  # nothing reached the chain
    assert NonceManager.get_cached_nonce(client.address) is None  # re-read next time
    receipt = controller.publish_task(params, signer=client.private_key, receipt_timeout=30)
    assert receipt.status == 1
    assert _tx_nonce(fault_proxy.seen_raw[-1]) == start  # the lost nonce, not the one after
    assert _mined_nonce(net, client.address) == start + 1
    assert source.get_task_count() == 1


def test_revert_at_mining_is_decoded_from_the_receipt(net: Any) -> None:
    """The estimate passed, then the chain moved on before mining (``before_send`` runs right
    before signing): the receipt has status 0, and its revert is replayed and mapped.

    (The live Controller accepts a past expiry, devnet/docs/live-chain.md row 8, so the chain
    "moves on" here by the source's owner inactivating the source while another client, who
    may publish to any ACTIVE source, row 10, is about to publish.)"""
    from ogpu.protocol import nexus
    from ogpu.types import SourceInactiveError

    source = net.publish_source()
    publisher = net.other
    from ogpu.protocol import vault

    vault.deposit(publisher.address, 1000, signer=publisher.private_key)
    params = TaskParams(
        source=source.address, config="ipfs://x", expiryTime=net.now() + 120, payment=100
    )
    start = _mined_nonce(net, publisher.address)

    def owner_inactivates() -> None:
        nexus.inactivate_source(source.address, signer=net.client.private_key)

    with pytest.raises(SourceInactiveError) as err:
        controller.publish_task(params, signer=publisher.private_key, before_send=owner_inactivates)
    assert _mined_nonce(net, publisher.address) == start + 1  # it was mined (and reverted) once
    # the error names the mined (reverted) transaction
    mined = _direct(net).request("eth_getTransactionByHash", [err.value.tx_hash])
    assert int(mined["nonce"], 16) == start and err.value.nonce == start
    assert err.value.tx_hash in str(err.value)
    assert source.get_task_count() == 0


def test_fix_nonce_replaces_stuck_transactions_and_waits_for_them(
    net: Any, fault_proxy: Any
) -> None:
    """Two transactions stuck in the pool (auto-mining off, nobody mines): ``fix_nonce`` needs
    the key, times out naming the stuck nonces while nothing mines, and otherwise signs one
    0-value self-transfer per stuck nonce at fees a node accepts as a replacement (>= 110% of
    the stuck ones), waits until those nonces are mined, drops the cache and returns the next
    free nonce. The devnet's pool replaces by nonce as geth does, so the self-transfers take the
    stuck transactions' places: they are what mines, the stuck hashes become unknown."""
    from ogpu.chain import fix_nonce, get_nonce_info
    from ogpu.types import MissingSignerError

    acct, key = net.other, net.other.private_key
    direct = _direct(net)
    set_live_data("warm", signer=key)
    start = _mined_nonce(net, acct.address)
    assert direct.request("evm_setAutomine", [False]) is True  # devnet_isolated restores it
    cheap = _cheap_fees(net)
    stuck = [_send_behind_the_sdks_back(net, acct, n, **cheap) for n in (start, start + 1)]
    info = get_nonce_info(acct.address)
    assert (info["mined_nonce"], info["pending_nonce"]) == (start, start + 2)
    assert (info["has_pending"], info["pending_count"]) == (True, 2)
    fault_proxy.seen_raw.clear()

    with pytest.raises(MissingSignerError):  # something is pending: the key is needed
        fix_nonce(acct.address)
    assert fault_proxy.seen_raw == []

    with pytest.raises(TxReceiptTimeoutError) as err:  # nothing mines
        fix_nonce(private_key=key, timeout=0.2)
    assert f"{start}..{start + 1}" in str(err.value)
    assert key.removeprefix("0x").lower() not in str(err.value).lower()
    assert [_tx_nonce(r) for r in fault_proxy.seen_raw] == [start, start + 1]
    # the node took them as replacements: the stuck transactions left the pool at once
    assert direct.batch([("eth_getTransactionByHash", [h]) for h in stuck]) == [None, None]
    first_replacements = [_hash(r) for r in fault_proxy.seen_raw]
    fault_proxy.seen_raw.clear()

    thread, out = _in_background(lambda: fix_nonce(private_key=key))
    _wait_for(lambda: len(fault_proxy.seen_raw) == 2, thread, "both replacements")
    direct.request("evm_mine", [])
    thread.join(60)
    assert not thread.is_alive() and "error" not in out, out.get("error")
    assert out["result"] == start + 2

    for raw, nonce in zip(fault_proxy.seen_raw, (start, start + 1), strict=True):
        from eth_account.typed_transactions import TypedTransaction
        from hexbytes import HexBytes

        tx = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
        assert int(tx["nonce"]) == nonce and int(tx["value"]) == 0
        assert bytes(tx["to"]).hex() == acct.address[2:].lower()  # a self-transfer
        max_fee, tip = int(tx["maxFeePerGas"]), int(tx["maxPriorityFeePerGas"])
        assert max_fee * 10 >= cheap["maxFeePerGas"] * 11
        assert tip * 10 >= cheap["maxPriorityFeePerGas"] * 11
    # the same fees, so the very same bytes ("already known"): what mined is the replacements
    replacements = [_hash(r) for r in fault_proxy.seen_raw]
    assert replacements == first_replacements
    receipts = direct.batch([("eth_getTransactionReceipt", [h]) for h in replacements])
    assert [int(r["status"], 16) for r in receipts] == [1, 1]
    assert [r["to"].lower() for r in receipts] == [acct.address.lower()] * 2
    assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"]
    block = direct.request("eth_getBlockByNumber", [receipts[0]["blockNumber"], False])
    assert block["transactions"] == replacements  # nothing else, the stuck ones least of all
    assert direct.batch([("eth_getTransactionReceipt", [h]) for h in stuck]) == [None, None]
    assert direct.batch([("eth_getTransactionByHash", [h]) for h in stuck]) == [None, None]
    info = get_nonce_info(acct.address)
    assert (info["mined_nonce"], info["pending_nonce"], info["has_pending"]) == (
        start + 2,
        start + 2,
        False,
    )
    assert info["cached_nonce"] is None
    assert direct.request("evm_setAutomine", [True]) is True
    set_live_data("unstuck", signer=key)
    assert _mined_nonce(net, acct.address) == start + 3


@pytest.mark.parametrize("cache", ["cold", "warm", "stale"])
def test_the_pending_count_rides_in_the_first_batch(
    net: Any, counting_proxy: Any, cache: str
) -> None:
    """The node's pending count is read in the batch that fetches chain id, fees and the gas
    estimate, and nowhere else: no extra round trip, whether the cache is empty, current or
    stale."""
    acct = net.other
    if cache != "cold":
        set_live_data("warm", signer=acct.private_key)
    start = _mined_nonce(net, acct.address)
    if cache == "stale":
        _send_behind_the_sdks_back(net, acct, start)
    counting_proxy.reset()
    receipt = set_live_data(f"count-{cache}", signer=acct.private_key)
    bodies = [json.loads(b) for b in counting_proxy.bodies]
    first = bodies[0]
    assert isinstance(first, list)
    assert ["eth_getTransactionCount", [acct.address, "pending"]] in [
        [c["method"], c["params"]] for c in first
    ]
    assert {c["method"] for c in first} >= {"eth_chainId", "eth_estimateGas"}
    calls = [c for body in bodies for c in (body if isinstance(body, list) else [body])]
    assert sum(c["method"] == "eth_getTransactionCount" for c in calls) == 1
    assert bodies[1]["method"] == "eth_sendRawTransaction"  # the next round trip sends
    expected = start + 1 if cache == "stale" else start
    assert (
        int(_direct(net).request("eth_getTransactionByHash", [receipt.tx_hash])["nonce"], 16)
        == expected
    )


def test_fix_nonce_outbids_a_stuck_transaction_that_pays_more_than_twice_the_network(
    net: Any, fault_proxy: Any
) -> None:
    """A stuck transaction priced above ``fix_nonce``'s first offer (2x the network's fees,
    e.g. an earlier replacement after fees moved): the node answers "replacement transaction
    underpriced" and ``fix_nonce`` raises its offer, same nonce, until the node takes it."""
    from ogpu.chain import fix_nonce

    acct, key = net.other, net.other.private_key
    direct = _direct(net)
    set_live_data("warm", signer=key)
    start = _mined_nonce(net, acct.address)
    block = direct.request("eth_getBlockByNumber", ["latest", False])
    tip = int(direct.request("eth_maxPriorityFeePerGas", []), 16)
    network_max_fee = 2 * int(block["baseFeePerGas"], 16) + tip
    assert direct.request("evm_setAutomine", [False]) is True  # devnet_isolated restores it
    dear = {"type": 2, "maxFeePerGas": 3 * network_max_fee, "maxPriorityFeePerGas": 3 * tip}
    stuck = _send_behind_the_sdks_back(net, acct, start, **dear)
    fault_proxy.seen_raw.clear()

    thread, out = _in_background(lambda: fix_nonce(private_key=key))
    _wait_for(
        lambda: direct.request("eth_getTransactionByHash", [stuck]) is None,
        thread,
        "the stuck transaction replaced",
    )
    direct.request("evm_mine", [])
    thread.join(60)
    assert not thread.is_alive() and "error" not in out, out.get("error")
    assert out["result"] == start + 1

    offers = [_tx_fees(r) for r in fault_proxy.seen_raw]
    assert len(offers) >= 2 and all(_tx_nonce(r) == start for r in fault_proxy.seen_raw)
    assert offers[0][0] < dear["maxFeePerGas"] * 11 // 10  # the first offer was refused
    assert offers == sorted(offers)  # each refused offer was raised
    mined = direct.request("eth_getTransactionReceipt", [_hash(fault_proxy.seen_raw[-1])])
    assert int(mined["status"], 16) == 1 and mined["to"].lower() == acct.address.lower()
