"""Replacement by nonce (auto-mining off), as geth and anvil do: a pooled transaction is replaced
by one from the same sender at the same nonce whose fee caps are both at least 10 % higher;
otherwise the node answers -32000 "replacement transaction underpriced"."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from eth_account import Account
from web3 import Web3

pytestmark = pytest.mark.usefixtures("devnet_isolated")  # also restores auto-mining

GWEI = 10**9
UNDERPRICED = {"code": -32000, "message": "replacement transaction underpriced"}


def _rpc(url: str, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    answer: dict[str, Any] = requests.post(url, json=body, timeout=10).json()
    return answer


def _raw(w3: Any, account: Any, nonce: int, to: str, value: int, **fees: int) -> str:
    tx = {"to": to, "value": value, "gas": 21000, "nonce": nonce, "chainId": w3.eth.chain_id}
    signed = Account.from_key(account.private_key).sign_transaction({**tx, **fees})
    return "0x" + bytes(signed.raw_transaction).hex()


def _send(url: str, raw: str) -> dict[str, Any]:
    """eth_sendRawTransaction; the whole answer (``result`` or ``error``)."""
    return _rpc(url, "eth_sendRawTransaction", [raw])


def _eip1559(max_fee: int, tip: int) -> dict[str, int]:
    return {"maxFeePerGas": max_fee, "maxPriorityFeePerGas": tip}


def _tx(url: str, tx_hash: str) -> Any:
    return _rpc(url, "eth_getTransactionByHash", [tx_hash])["result"]


def test_eip1559_replacement_needs_both_fees_ten_percent_higher(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender, other = devnet_accounts[1], devnet_accounts[2]
    to = Account.create().address  # a fresh recipient: its balance shows which transfer mined
    assert _rpc(url, "evm_setAutomine", [False])["result"] is True
    start = w3.eth.block_number
    nonce = w3.eth.get_transaction_count(sender.address, "pending")

    old = _send(url, _raw(w3, sender, nonce, to, 1, **_eip1559(10 * GWEI, 2 * GWEI)))["result"]
    other_nonce = w3.eth.get_transaction_count(other.address)
    between = _send(url, _raw(w3, other, other_nonce, to, 10, gasPrice=10 * GWEI))
    after = _send(url, _raw(w3, sender, nonce + 1, to, 100, **_eip1559(10 * GWEI, 2 * GWEI)))
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce + 2

    # below 10 % on either fee (or on both, or the same fees) is refused with geth's answer
    for max_fee, tip in (
        (10 * GWEI, 2 * GWEI),  # the same fees, another value
        (11 * GWEI, 2 * GWEI + 2 * GWEI // 10 - 1),  # tip +9.99 %
        (11 * GWEI - 1, 3 * GWEI),  # max fee +9.99 %
        (20 * GWEI, 2 * GWEI),  # only the max fee raised
        (10 * GWEI, 10 * GWEI),  # only the tip raised
    ):
        answer = _send(url, _raw(w3, sender, nonce, to, 2, **_eip1559(max_fee, tip)))
        assert answer["error"] == UNDERPRICED, (max_fee, tip)
    assert _tx(url, old)["hash"] == old  # the pooled transaction stays

    # exactly +10 % on both is a replacement: same nonce, the old one's place in the pool
    raw = _raw(w3, sender, nonce, to, 2, **_eip1559(11 * GWEI, 2 * GWEI + 2 * GWEI // 10))
    new = _send(url, raw)["result"]
    assert new != old
    assert _tx(url, old) is None  # the old hash is unknown now
    pooled = _tx(url, new)
    assert pooled["blockNumber"] is None and int(pooled["nonce"], 16) == nonce
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce + 2  # unchanged
    assert _send(url, raw)["error"]["message"] == "already known"
    # the replaced transaction cannot come back (its fees are below the replacement's)
    again = _send(url, _raw(w3, sender, nonce, to, 1, **_eip1559(10 * GWEI, 2 * GWEI)))
    assert again["error"] == UNDERPRICED

    assert _rpc(url, "evm_mine")["result"] == "0x0"
    block = w3.eth.get_block(start + 1)
    mined = ["0x" + bytes(h).hex() for h in block["transactions"]]
    assert mined == [new, between["result"], after["result"]]  # in the old one's place
    assert w3.eth.get_transaction_receipt(new)["status"] == 1
    assert _rpc(url, "eth_getTransactionReceipt", [old])["result"] is None
    assert _tx(url, old) is None
    assert w3.eth.get_balance(to) == 2 + 10 + 100  # the replacement's value, not the old one's
    assert w3.eth.get_transaction_count(sender.address) == nonce + 2
    # once mined, the nonce is simply used
    late = _send(url, _raw(w3, sender, nonce, to, 3, **_eip1559(50 * GWEI, 50 * GWEI)))
    assert late["error"]["code"] == -32000 and "nonce too low" in late["error"]["message"]


def test_legacy_replacement_and_mixed_types(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender = devnet_accounts[3]
    to = Account.create().address
    assert _rpc(url, "miner_stop")["result"] is None
    nonce = w3.eth.get_transaction_count(sender.address, "pending")

    first = _send(url, _raw(w3, sender, nonce, to, 1, gasPrice=10 * GWEI))["result"]
    assert _send(url, _raw(w3, sender, nonce, to, 2, gasPrice=11 * GWEI - 1))["error"] == (
        UNDERPRICED
    )
    second = _send(url, _raw(w3, sender, nonce, to, 2, gasPrice=11 * GWEI))["result"]
    assert _tx(url, first) is None and _tx(url, second)["gasPrice"] == hex(11 * GWEI)

    # a legacy gas price counts as both caps: an EIP-1559 replacement must beat it on both
    underpriced = _raw(w3, sender, nonce, to, 3, **_eip1559(100 * GWEI, 12 * GWEI))
    assert _send(url, underpriced)["error"] == UNDERPRICED  # tip 12 < 11 * 1.1 = 12.1 gwei
    third = _send(url, _raw(w3, sender, nonce, to, 3, **_eip1559(100 * GWEI, 121 * GWEI // 10)))
    third_hash = third["result"]
    assert _tx(url, second) is None and int(_tx(url, third_hash)["type"], 16) == 2
    # and back to legacy: a gas price of 110 gwei beats the 100 gwei max fee by 10 %
    assert _send(url, _raw(w3, sender, nonce, to, 4, gasPrice=110 * GWEI - 1))["error"] == (
        UNDERPRICED
    )
    fourth = _send(url, _raw(w3, sender, nonce, to, 4, gasPrice=110 * GWEI))["result"]
    assert _tx(url, third_hash) is None
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce + 1

    assert _rpc(url, "miner_start")["result"] is None  # mines the pool
    receipt = w3.eth.get_transaction_receipt(fourth)
    assert receipt["status"] == 1 and receipt["effectiveGasPrice"] == 110 * GWEI
    for gone in (first, second, third_hash):
        assert _rpc(url, "eth_getTransactionReceipt", [gone])["result"] is None
    assert w3.eth.get_balance(to) == 4
    assert w3.eth.get_transaction_count(sender.address) == nonce + 1


def test_server_signed_replacement_and_revert_drops_it(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender = devnet_accounts[4].address
    to = devnet_accounts[9].address
    snap = _rpc(url, "evm_snapshot")["result"]
    _rpc(url, "evm_setAutomine", [False])
    nonce = w3.eth.get_transaction_count(sender, "pending")
    base = {"from": sender, "to": to, "nonce": nonce, "gas": 21000}
    old = w3.eth.send_transaction({**base, "value": 1, **_eip1559(10 * GWEI, GWEI)})
    with pytest.raises(Exception, match="replacement transaction underpriced"):
        w3.eth.send_transaction({**base, "value": 2, **_eip1559(10 * GWEI, 2 * GWEI)})
    new = w3.eth.send_transaction({**base, "value": 2, **_eip1559(11 * GWEI, 11 * GWEI // 10)})
    assert _tx(url, old.to_0x_hex()) is None
    assert Web3.to_checksum_address(w3.eth.get_transaction(new)["from"]) == sender
    # evm_revert still empties the pool, replacement included
    assert _rpc(url, "evm_revert", [snap])["result"] is True
    assert _tx(url, new.to_0x_hex()) is None
    assert w3.eth.get_transaction_count(sender, "pending") == nonce
