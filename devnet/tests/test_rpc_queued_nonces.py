"""Future nonces wait in the pool's "queued" set until the gap fills, as in geth's txpool
(devnet/docs/live-chain.md row 42): the published SDK sends from several threads and relies
on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from ogpu_devnet import Devnet
from ogpu_devnet.chain import MAX_QUEUED_PER_SENDER, MAX_QUEUED_TOTAL
from web3.exceptions import Web3RPCError

MAX_FEE = 10 * 10**9
TIP = 10**9


def _rpc(url: str, method: str, params: list[Any] | None = None) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    answer: dict[str, Any] = requests.post(url, json=body, timeout=30).json()
    return answer


def _raw(key: str, to: str, nonce: int, value: int = 1, fee: int = MAX_FEE, tip: int = TIP) -> str:
    tx = {
        "to": to,
        "value": value,
        "gas": 21000,
        "maxFeePerGas": fee,
        "maxPriorityFeePerGas": tip,
        "nonce": nonce,
        "chainId": 31071,
    }
    return "0x" + bytes(Account.sign_transaction(tx, key).raw_transaction).hex()


def _send(url: str, raw: str) -> str:
    answer = _rpc(url, "eth_sendRawTransaction", [raw])
    assert "error" not in answer, answer
    tx_hash: str = answer["result"]
    return tx_hash


def _count(url: str, address: str, tag: str = "latest") -> int:
    return int(_rpc(url, "eth_getTransactionCount", [address, tag])["result"], 16)


def _block_number(url: str) -> int:
    return int(_rpc(url, "eth_blockNumber")["result"], 16)


def test_nonces_sent_in_reverse_are_mined_in_nonce_order(devnet_isolated: Devnet) -> None:
    url, sender = devnet_isolated.rpc_url, devnet_isolated.accounts[3]
    to = Account.create().address
    n = _count(url, sender.address)
    start = _block_number(url)
    before = int(_rpc(url, "eth_getBalance", [sender.address, "latest"])["result"], 16)

    late = [_send(url, _raw(sender.private_key, to, n + k, value=10 + k)) for k in (2, 1)]
    # queued: answered, visible as pending, not mined, not counted
    assert _block_number(url) == start
    assert _count(url, sender.address) == n
    assert _count(url, sender.address, "pending") == n
    for tx_hash in late:
        assert _rpc(url, "eth_getTransactionReceipt", [tx_hash])["result"] is None
        seen = _rpc(url, "eth_getTransactionByHash", [tx_hash])["result"]
        assert seen is not None and seen["blockNumber"] is None and seen["hash"] == tx_hash
    assert _rpc(url, "eth_getBalance", [to, "latest"])["result"] == "0x0"

    first = _send(url, _raw(sender.private_key, to, n, value=10))  # fills the gap
    hashes = [first, *reversed(late)]
    assert _block_number(url) == start + 3
    assert _count(url, sender.address) == n + 3
    assert _count(url, sender.address, "pending") == n + 3
    fees = 0
    for k, tx_hash in enumerate(hashes):
        receipt = _rpc(url, "eth_getTransactionReceipt", [tx_hash])["result"]
        assert int(receipt["status"], 16) == 1
        assert int(receipt["blockNumber"], 16) == start + 1 + k  # one block each, nonce order
        fees += int(receipt["gasUsed"], 16) * int(receipt["effectiveGasPrice"], 16)
        tx = _rpc(url, "eth_getTransactionByHash", [tx_hash])["result"]
        assert int(tx["nonce"], 16) == n + k
    assert int(_rpc(url, "eth_getBalance", [to, "latest"])["result"], 16) == 10 + 11 + 12
    after = int(_rpc(url, "eth_getBalance", [sender.address, "latest"])["result"], 16)
    assert after == before - 33 - fees


def test_queued_transaction_replacement_rules(devnet_isolated: Devnet) -> None:
    url, sender = devnet_isolated.rpc_url, devnet_isolated.accounts[4]
    to = Account.create().address
    n = _count(url, sender.address)
    old = _raw(sender.private_key, to, n + 1, value=1)
    old_hash = _send(url, old)
    again = _rpc(url, "eth_sendRawTransaction", [old])
    assert again["error"]["code"] == -32000 and "already known" in again["error"]["message"]
    same_fees = _rpc(url, "eth_sendRawTransaction", [_raw(sender.private_key, to, n + 1, 2)])
    assert "replacement transaction underpriced" in same_fees["error"]["message"]
    new_hash = _send(
        url,
        _raw(sender.private_key, to, n + 1, value=3, fee=MAX_FEE * 11 // 10, tip=TIP * 11 // 10),
    )
    assert _rpc(url, "eth_getTransactionByHash", [old_hash])["result"] is None  # replaced

    _send(url, _raw(sender.private_key, to, n))
    receipt = _rpc(url, "eth_getTransactionReceipt", [new_hash])["result"]
    assert receipt is not None and int(receipt["status"], 16) == 1
    assert _rpc(url, "eth_getTransactionByHash", [old_hash])["result"] is None
    assert int(_rpc(url, "eth_getBalance", [to, "latest"])["result"], 16) == 1 + 3


def test_queue_bound_and_revert_drops_queued(devnet_isolated: Devnet) -> None:
    url, sender = devnet_isolated.rpc_url, devnet_isolated.accounts[5]
    to = Account.create().address
    n = _count(url, sender.address)
    snapshot = _rpc(url, "evm_snapshot")["result"]
    batch = [
        {"jsonrpc": "2.0", "id": k, "method": "eth_sendRawTransaction",
         "params": [_raw(sender.private_key, to, n + 1 + k)]}
        for k in range(MAX_QUEUED_PER_SENDER)
    ]  # fmt: skip
    answers = requests.post(url, json=batch, timeout=60).json()
    assert all("result" in a for a in answers), answers[:3]
    full = _rpc(url, "eth_sendRawTransaction", [_raw(sender.private_key, to, n + 100)])
    assert full["error"]["code"] == -32000
    assert full["error"]["message"].startswith("txpool is full")
    # a replacement of a queued nonce is no new entry: still accepted at the bound
    _send(url, _raw(sender.private_key, to, n + 5, fee=MAX_FEE * 2, tip=TIP * 2))

    assert _rpc(url, "evm_revert", [snapshot])["result"] is True  # drops the queued ones
    _send(url, _raw(sender.private_key, to, n))
    assert _count(url, sender.address) == n + 1  # nothing queued followed it
    assert _rpc(url, "eth_getTransactionByHash", [answers[0]["result"]])["result"] is None
    _send(url, _raw(sender.private_key, to, n + 3))  # the queue takes new ones again
    assert _count(url, sender.address) == n + 1


def test_automine_off_queued_joins_the_pool_when_the_gap_fills(devnet_isolated: Devnet) -> None:
    url, sender = devnet_isolated.rpc_url, devnet_isolated.accounts[6]
    to = Account.create().address
    assert _rpc(url, "evm_setAutomine", [False])["result"] is True
    n = _count(url, sender.address)
    start = _block_number(url)
    far = _send(url, _raw(sender.private_key, to, n + 3))
    second = _send(url, _raw(sender.private_key, to, n + 1))
    assert _count(url, sender.address, "pending") == n  # only the contiguous run counts
    first = _send(url, _raw(sender.private_key, to, n))
    assert _count(url, sender.address, "pending") == n + 2  # n and the promoted n + 1
    assert _block_number(url) == start

    assert _rpc(url, "evm_mine")["result"] == "0x0"
    block = _rpc(url, "eth_getBlockByNumber", [hex(start + 1), False])["result"]
    assert block["transactions"] == [first, second]  # one block, nonce order
    assert _rpc(url, "eth_getTransactionReceipt", [far])["result"] is None  # gap at n + 2
    assert _rpc(url, "eth_getTransactionByHash", [far])["result"]["blockNumber"] is None

    assert _rpc(url, "evm_setAutomine", [True])["result"] is True
    _send(url, _raw(sender.private_key, to, n + 2))  # fills the gap: n + 3 follows at once
    assert _count(url, sender.address) == n + 4
    assert _rpc(url, "eth_getTransactionReceipt", [far])["result"]["blockNumber"] == hex(start + 3)


def test_state_dir_replay_keeps_mined_queued_and_forgets_waiting(tmp_path: Path) -> None:
    """Queued transactions are journaled when they are mined: a restart reproduces the chain
    (same head hash) and forgets a transaction still waiting behind a gap."""
    state = tmp_path / "state"
    with Devnet(state_dir=state) as first:
        url, sender = first.rpc_url, first.accounts[7]
        to = Account.create().address
        n = _count(url, sender.address)
        mined = _send(url, _raw(sender.private_key, to, n + 1))
        _send(url, _raw(sender.private_key, to, n))
        waiting = _send(url, _raw(sender.private_key, to, n + 5))
        head = _rpc(url, "eth_getBlockByNumber", ["latest", False])["result"]["hash"]
    with Devnet(state_dir=state) as second:
        url = second.rpc_url
        assert _rpc(url, "eth_getBlockByNumber", ["latest", False])["result"]["hash"] == head
        assert _rpc(url, "eth_getTransactionReceipt", [mined])["result"]["status"] == "0x1"
        assert _rpc(url, "eth_getTransactionByHash", [waiting])["result"] is None
        assert _count(url, sender.address) == n + 2


def test_web3_sees_a_queued_transaction_as_pending(devnet_isolated: Devnet, devnet_w3: Any) -> None:
    sender = devnet_isolated.accounts[8]
    n = devnet_w3.eth.get_transaction_count(sender.address)
    tx_hash = devnet_w3.eth.send_raw_transaction(_raw(sender.private_key, sender.address, n + 1))
    assert devnet_w3.eth.get_transaction(tx_hash)["blockNumber"] is None
    filler = _raw(sender.private_key, sender.address, n)
    devnet_w3.eth.send_raw_transaction(filler)
    assert devnet_w3.eth.get_transaction_receipt(tx_hash)["status"] == 1
    with pytest.raises(Web3RPCError, match="nonce too low"):
        devnet_w3.eth.send_raw_transaction(filler)


def test_queue_total_bound(devnet_isolated: Devnet) -> None:
    """All senders together queue at most MAX_QUEUED_TOTAL future-nonce transactions."""
    url, funder = devnet_isolated.rpc_url, devnet_isolated.accounts[0]
    per_sender = MAX_QUEUED_PER_SENDER
    senders = [Account.create() for _ in range(MAX_QUEUED_TOTAL // per_sender)]
    n = _count(url, funder.address)
    for k, acct in enumerate(senders):  # fund them (mined at once)
        _send(url, _raw(funder.private_key, acct.address, n + k, value=10**18))
    to = Account.create().address
    for acct in senders:  # one batch per sender (the devnet's batch limit is below 1024)
        batch = [
            {"jsonrpc": "2.0", "id": k, "method": "eth_sendRawTransaction",
             "params": [_raw(acct.key.hex(), to, 1 + k)]}
            for k in range(per_sender)
        ]  # fmt: skip
        answers = requests.post(url, json=batch, timeout=60).json()
        assert all("result" in a for a in answers), [a for a in answers if "error" in a][:2]
    extra = Account.create()
    _send(url, _raw(funder.private_key, extra.address, n + len(senders), value=10**18))
    full = _rpc(url, "eth_sendRawTransaction", [_raw(extra.key.hex(), to, 1)])
    assert full["error"]["code"] == -32000
    assert full["error"]["message"] == (
        f"txpool is full: {MAX_QUEUED_TOTAL} future-nonce transactions already queued"
    )
    _send(url, _raw(senders[0].key.hex(), to, 0))  # one gap fills: its 64 are mined
    assert _count(url, senders[0].address) == 1 + per_sender
    _send(url, _raw(extra.key.hex(), to, 1))  # room again
