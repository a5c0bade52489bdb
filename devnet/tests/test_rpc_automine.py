"""Auto-mining off (anvil's ``evm_setAutomine(false)``): transactions wait until ``evm_mine``."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError

pytestmark = pytest.mark.usefixtures("devnet_isolated")


def _rpc(url: str, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    answer: dict[str, Any] = requests.post(url, json=body, timeout=10).json()
    return answer


def _transfer(w3: Any, account: Any, to: str, nonce: int, value: int = 1) -> bytes:
    acct = Account.from_key(account.private_key)
    tx = {
        "to": to,
        "value": value,
        "gas": 21000,
        "maxFeePerGas": 10 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "nonce": nonce,
        "chainId": w3.eth.chain_id,
    }
    return bytes(w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction))


def test_pending_transactions_count_and_wait_for_evm_mine(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender, other, to = devnet_accounts[1], devnet_accounts[2], devnet_accounts[9].address
    assert _rpc(url, "anvil_getAutomine")["result"] is True
    assert _rpc(url, "evm_setAutomine", [False])["result"] is True
    assert _rpc(url, "anvil_getAutomine")["result"] is False
    assert _rpc(url, "eth_mining")["result"] is False
    start = w3.eth.block_number
    block_filter = w3.eth.filter("latest")
    base = w3.eth.get_transaction_count(sender.address)

    hashes = []
    for i in range(3):  # the next nonces come from the "pending" count
        nonce = w3.eth.get_transaction_count(sender.address, "pending")
        assert nonce == base + i
        hashes.append(_transfer(w3, sender, to, nonce))
    hashes.append(_transfer(w3, other, to, w3.eth.get_transaction_count(other.address, "pending")))

    assert w3.eth.block_number == start  # nothing mined
    assert w3.eth.get_transaction_count(sender.address) == base  # latest: unchanged
    assert w3.eth.get_transaction_count(sender.address, "pending") == base + 3
    pending = w3.eth.get_transaction(hashes[0])
    assert pending["blockNumber"] is None and pending["nonce"] == base
    assert _rpc(url, "eth_getTransactionReceipt", ["0x" + hashes[0].hex()])["result"] is None
    assert block_filter.get_new_entries() == []

    # a nonce gap is queued (not pooled, not counted: test_rpc_queued_nonces.py), a pooled
    # nonce at the same fees is no replacement (see test_rpc_replacement.py); the same
    # transaction twice is "already known"
    gap = _transfer(w3, sender, to, base + 4, value=7)
    assert w3.eth.get_transaction_count(sender.address, "pending") == base + 3
    with pytest.raises(Web3RPCError, match="replacement transaction underpriced"):
        _transfer(w3, sender, to, base + 1, value=2)
    with pytest.raises(Web3RPCError, match="already known"):
        _transfer(w3, sender, to, base + 2)

    assert _rpc(url, "evm_mine")["result"] == "0x0"
    assert w3.eth.block_number == start + 1
    block = w3.eth.get_block(start + 1)
    assert [bytes(h) for h in block["transactions"]] == hashes  # one block, arrival order
    assert _rpc(url, "eth_getTransactionReceipt", ["0x" + gap.hex()])["result"] is None
    for tx_hash in hashes:
        receipt = w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1 and receipt["blockNumber"] == start + 1
    assert w3.eth.get_transaction_count(sender.address) == base + 3
    assert [bytes(h) for h in block_filter.get_new_entries()] == [bytes(block["hash"])]

    # still off: the next transaction waits too (and the queued one behind it joins the
    # pool), then turning auto-mining on mines them
    tx_hash = _transfer(w3, sender, to, base + 3)
    assert w3.eth.get_transaction_count(sender.address, "pending") == base + 5
    assert w3.eth.block_number == start + 1
    assert _rpc(url, "anvil_setAutomine", [True]) == {"jsonrpc": "2.0", "id": 1, "result": None}
    assert w3.eth.block_number == start + 2
    assert w3.eth.get_transaction_receipt(tx_hash)["blockNumber"] == start + 2
    assert w3.eth.get_transaction_receipt(gap)["blockNumber"] == start + 2
    # and from now on every transaction is mined at once again
    tx_hash = _transfer(w3, sender, to, base + 5)
    assert w3.eth.get_transaction_receipt(tx_hash)["blockNumber"] == start + 3


def test_miner_stop_start_and_wait_for_receipt(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender = devnet_accounts[3]
    assert _rpc(url, "miner_stop")["result"] is None
    nonce = w3.eth.get_transaction_count(sender.address, "pending")
    first = _transfer(w3, sender, devnet_accounts[9].address, nonce)
    second = _transfer(w3, sender, devnet_accounts[9].address, nonce + 1)
    assert _rpc(url, "hardhat_mine", ["0x2"])["result"] is None  # the pool goes in the first
    r1, r2 = (w3.eth.wait_for_transaction_receipt(h, timeout=10) for h in (first, second))
    assert r1["blockNumber"] == r2["blockNumber"] == w3.eth.block_number - 1
    assert _rpc(url, "miner_start")["result"] is None
    assert _rpc(url, "hardhat_getAutomine")["result"] is True


def test_pool_is_dropped_by_evm_revert_and_automine_is_validated(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender = devnet_accounts[4]
    snap = _rpc(url, "evm_snapshot")["result"]
    _rpc(url, "evm_setAutomine", [False])
    nonce = w3.eth.get_transaction_count(sender.address)
    tx_hash = _transfer(w3, sender, devnet_accounts[9].address, nonce)
    assert _rpc(url, "evm_revert", [snap])["result"] is True
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce
    assert _rpc(url, "eth_getTransactionByHash", ["0x" + tx_hash.hex()])["result"] is None
    for bad in ([], ["yes"], [1], [True, False]):
        assert _rpc(url, "evm_setAutomine", bad)["error"]["code"] == -32602
    # funds are checked on arrival
    poor = Account.create()
    tx = {
        "to": poor.address,
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
        "nonce": 0,
        "chainId": w3.eth.chain_id,
    }
    raw = "0x" + bytes(poor.sign_transaction(tx).raw_transaction).hex()
    error = _rpc(url, "eth_sendRawTransaction", [raw])["error"]
    assert error["code"] == -32000 and "insufficient funds" in error["message"]
    _rpc(url, "evm_setAutomine", [True])


def test_server_signed_transactions_use_the_pending_nonce(
    devnet: Any, devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    w3, url = devnet_w3, devnet.rpc_url
    sender = devnet_accounts[5].address
    _rpc(url, "evm_setAutomine", [False])
    hashes = [
        w3.eth.send_transaction({"from": sender, "to": devnet_accounts[9].address, "value": 1})
        for _ in range(2)
    ]
    assert [w3.eth.get_transaction(h)["nonce"] for h in hashes] == [0, 1]
    _rpc(url, "evm_mine")
    assert w3.eth.get_transaction_count(sender) == 2
    assert Web3.to_checksum_address(w3.eth.get_transaction_receipt(hashes[1])["from"]) == sender
