"""The transaction executor under injected RPC faults (a real proxy socket in front of the devnet).

What is proved: an intent is never sent under two nonces (the sender's nonce advances by exactly
one per intent), lost answers are resolved by looking the signed hash up, lost requests are
re-sent as the very same bytes, underpriced sends are re-signed at the same nonce, a stale
nonce cache recovers, and a transaction that never mines raises TxReceiptTimeoutError.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from ogpu.chain import ChainConfig, NonceManager
from ogpu.chain._rpc import RpcClient, RpcTransportError
from ogpu.protocol import controller, terminal
from ogpu.types import TaskParams, TxReceiptTimeoutError


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


def _live_data_of(net: Any, address: str) -> str:
    return str(terminal.get_live_data_of(address))


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
    with pytest.raises(RpcTransportError):
        terminal.set_live_data("never", signer=acct.private_key)
    assert len(fault_proxy.seen_raw) == 4 and len(set(fault_proxy.seen_raw)) == 1
    assert fault_proxy.forwarded_raw == []
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


def test_underpriced_is_resigned_at_the_same_nonce(net: Any, fault_proxy: Any) -> None:
    acct = net.other
    start = _mined_nonce(net, acct.address)
    fault_proxy.inject(
        "eth_sendRawTransaction", ("error", -32000, "replacement transaction underpriced")
    )
    receipt = terminal.set_live_data("underpriced", signer=acct.private_key)
    first, second = fault_proxy.seen_raw
    assert first != second  # re-signed with higher fees ...
    assert _tx_nonce(first) == _tx_nonce(second) == start  # ... but at the same nonce
    assert receipt.tx_hash == "0x" + keccak(hexstr=second).hex()
    assert _mined_nonce(net, acct.address) == start + 1


def test_stale_nonce_cache_moves_to_a_fresh_nonce_once(net: Any, fault_proxy: Any) -> None:
    """Another sender used the key behind the SDK's back: "nonce too low" moves the intent,
    which lands exactly once."""
    acct = net.other
    terminal.set_live_data("warm", signer=acct.private_key)  # the cache now knows the nonce
    start = _mined_nonce(net, acct.address)
    assert NonceManager.get_cached_nonce(acct.address) == start
    signed = Account.from_key(acct.private_key).sign_transaction(
        {
            "to": acct.address,
            "value": 0,
            "gas": 21_000,
            "gasPrice": 10**10,
            "nonce": start,
            "chainId": ChainConfig.get_current_chain().value,
        }
    )
    _direct(net).request("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
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
    assert source.get_task_count() == 0
