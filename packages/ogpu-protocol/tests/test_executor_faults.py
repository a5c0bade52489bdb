"""The transaction executor under injected RPC faults (a real proxy socket in front of the devnet).

What is proved: an intent is never sent under two nonces (the sender's nonce advances by exactly
one per intent), lost answers are resolved by looking the signed hash up, lost requests are
re-sent as the very same bytes, underpriced sends are re-signed at the same nonce only when
nothing else holds it (never bumped over another process's transaction), permanent rejections
fail at once while transient ones are retried, a stale nonce cache recovers, a transaction
that never mines raises TxReceiptTimeoutError, and every error raised after signing names the
transaction hash and nonce.
"""

from __future__ import annotations

import pickle
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


def _send_behind_the_sdks_back(net: Any, acct: Any, nonce: int) -> None:
    """Another process uses the same key at ``nonce`` (the devnet mines it at once)."""
    signed = Account.from_key(acct.private_key).sign_transaction(
        {
            "to": acct.address,
            "value": 0,
            "gas": 21_000,
            "gasPrice": 10**10,
            "nonce": nonce,
            "chainId": ChainConfig.get_current_chain().value,
        }
    )
    _direct(net).request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])


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
    receipt = terminal.set_live_data("lost-answer", signer=acct.private_key)
    assert receipt.status == 1
    assert len(fault_proxy.forwarded_raw) == 1 and len(fault_proxy.seen_raw) == 1
    assert receipt.tx_hash == "0x" + keccak(hexstr=fault_proxy.forwarded_raw[0]).hex()
    assert _mined_nonce(net, acct.address) == start + 1
    assert _live_data_of(net, acct.address) == "lost-answer"
    # the cache advanced past the used nonce: the next intent lands right after it
    terminal.set_live_data("next", signer=acct.private_key)
    assert _mined_nonce(net, acct.address) == start + 2


def test_lost_request_is_resent_as_the_same_bytes(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", "drop", "drop")
    receipt = terminal.set_live_data("lost-request", signer=acct.private_key)
    assert receipt.status == 1
    assert len(fault_proxy.seen_raw) == 3 and len(set(fault_proxy.seen_raw)) == 1
    assert fault_proxy.forwarded_raw == fault_proxy.seen_raw[-1:]
    assert _mined_nonce(net, acct.address) == start + 1


def test_transport_failures_beyond_the_retry_bound_raise(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", *["drop"] * 4)
    with pytest.raises(RpcTransportError) as err:
        terminal.set_live_data("never", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 4 and len(set(fault_proxy.seen_raw)) == 1
    assert fault_proxy.forwarded_raw == []
    # the user can check whether it went through: the error names the hash and the nonce
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, acct.private_key)
    assert _mined_nonce(net, acct.address) == start
    # nothing was left behind: the next intent takes the same nonce
    terminal.set_live_data("after", signer=acct.private_key)
    assert _mined_nonce(net, acct.address) == start + 1
    assert _tx_nonce(fault_proxy.forwarded_raw[-1]) == start


def test_transient_error_resends_the_same_bytes(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject(
        "eth_sendRawTransaction", ("error", -32005, "request rate limit exceeded, try again")
    )
    terminal.set_live_data("transient", signer=acct.private_key)
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
        terminal.set_live_data("permanent", signer=acct.private_key)
    assert not isinstance(err.value, RpcTransportError)
    assert len(fault_proxy.seen_raw) == 1 and fault_proxy.forwarded_raw == []
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, acct.private_key)
    if "funds" in message:
        assert acct.address in str(err.value)
    assert _mined_nonce(net, acct.address) == start
    terminal.set_live_data("after", signer=acct.private_key)
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
    terminal.set_live_data("transient", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 2 and fault_proxy.seen_raw[0] == fault_proxy.seen_raw[1]
    assert _mined_nonce(net, acct.address) == start + 1


def test_underpriced_is_resigned_at_the_same_nonce(net: Any, fault_proxy: Any) -> None:
    """Below the pool's price floor and nothing else at the nonce: bump, same nonce."""
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", ("error", -32000, "transaction underpriced"))
    receipt = terminal.set_live_data("underpriced", signer=acct.private_key)
    first, second = fault_proxy.seen_raw
    assert first != second  # re-signed with higher fees ...
    assert _tx_nonce(first) == _tx_nonce(second) == start  # ... but at the same nonce
    assert receipt.tx_hash == "0x" + keccak(hexstr=second).hex()
    assert _mined_nonce(net, acct.address) == start + 1


def test_underpriced_at_a_nonce_taken_by_another_process_moves_without_bumping(
    net: Any, fault_proxy: Any
) -> None:
    """The cache is stale (another process used the key): the node answers "replacement
    underpriced" because *its* transaction holds the nonce. The executor must not bump over
    it; it checks that none of its own hashes is known, resyncs and re-signs at the new nonce
    with the same fees, so the intent lands once."""
    acct = net.other
    terminal.set_live_data("warm", signer=acct.private_key)  # the cache now knows the nonce
    start = _mined_nonce(net, acct.address)
    assert NonceManager.get_cached_nonce(acct.address) == start
    _send_behind_the_sdks_back(net, acct, start)
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()
    fault_proxy.inject(
        "eth_sendRawTransaction", ("error", -32000, "replacement transaction underpriced")
    )
    receipt = terminal.set_live_data("moved", signer=acct.private_key)
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
    receipt = terminal.set_live_data("ours", signer=acct.private_key)
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
        terminal.set_live_data("refused", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 1
    assert err.value.tried == start
    _assert_names_the_transaction(err.value, fault_proxy.seen_raw[0], start, acct.private_key)
    assert _mined_nonce(net, acct.address) == start
    terminal.set_live_data("after", signer=acct.private_key)
    assert _mined_nonce(net, acct.address) == start + 1


def test_stale_nonce_cache_moves_to_a_fresh_nonce_once(net: Any, fault_proxy: Any) -> None:
    """Another sender used the key behind the SDK's back: "nonce too low" moves the intent,
    which lands exactly once."""
    acct = net.other
    terminal.set_live_data("warm", signer=acct.private_key)  # the cache now knows the nonce
    start = _mined_nonce(net, acct.address)
    assert NonceManager.get_cached_nonce(acct.address) == start
    _send_behind_the_sdks_back(net, acct, start)
    fault_proxy.seen_raw.clear()
    fault_proxy.forwarded_raw.clear()
    receipt = terminal.set_live_data("after-stale", signer=acct.private_key)
    assert receipt.status == 1
    assert [_tx_nonce(r) for r in fault_proxy.seen_raw] == [start, start + 1]
    assert len(fault_proxy.forwarded_raw) == 2  # the node rejected the first as too low
    assert _mined_nonce(net, acct.address) == start + 2
    assert _live_data_of(net, acct.address) == "after-stale"


def test_receipt_timeout_then_recovery(net: Any, fault_proxy: Any) -> None:
    """A node that loses the tx: TxReceiptTimeoutError names the hash; the next intent still
    lands at the right nonce (the cache is corrected by the node's "nonce too high")."""
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
    receipt = controller.publish_task(params, signer=client.private_key)
    assert receipt.status == 1
    assert _mined_nonce(net, client.address) == start + 1
    assert source.get_task_count() == 1


def test_revert_at_mining_is_decoded_from_the_receipt(net: Any) -> None:
    """The estimate passed, then the chain moved on before mining (``before_send`` runs right
    before signing): the receipt has status 0, and its revert is replayed and mapped."""
    from ogpu.types import TaskExpiredError

    source = net.publish_source()
    net.fund_client()
    client = net.client
    expiry = net.now() + 120
    params = TaskParams(source=source.address, config="ipfs://x", expiryTime=expiry, payment=100)
    start = _mined_nonce(net, client.address)

    def time_passes() -> None:
        direct = _direct(net)
        direct.request("evm_increaseTime", [1000])
        direct.request("evm_mine", [])

    with pytest.raises(TaskExpiredError) as err:
        controller.publish_task(params, signer=client.private_key, before_send=time_passes)
    assert err.value.expiry == expiry
    assert _mined_nonce(net, client.address) == start + 1  # it was mined (and reverted) once
    # the error names the mined (reverted) transaction
    mined = _direct(net).request("eth_getTransactionByHash", [err.value.tx_hash])
    assert int(mined["nonce"], 16) == start and err.value.nonce == start
    assert err.value.tx_hash in str(err.value)
    assert source.get_task_count() == 0
