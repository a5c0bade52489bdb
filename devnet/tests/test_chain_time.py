"""Time travel, mining and snapshots through the anvil-style JSON-RPC controls."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from web3.exceptions import TransactionNotFound

pytestmark = pytest.mark.usefixtures("devnet_isolated")


def _rpc(w3: Any, method: str, *params: Any) -> Any:
    answer = w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
    if "error" in answer:
        raise AssertionError(answer["error"])
    return answer["result"]


def _transfer(w3: Any, account: Any, value: int = 1) -> Any:
    acct = Account.from_key(account.private_key)
    tx = {
        "to": "0x" + "11" * 20,
        "value": value,
        "gas": 21000,
        "maxFeePerGas": 10 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "nonce": w3.eth.get_transaction_count(acct.address),
        "chainId": w3.eth.chain_id,
    }
    tx_hash = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)


def _latest(w3: Any) -> Any:
    return w3.eth.get_block("latest")


def test_evm_mine_and_increase_time(devnet_w3: Any) -> None:
    before = _latest(devnet_w3)
    assert _rpc(devnet_w3, "evm_mine") == "0x0"
    mined = _latest(devnet_w3)
    assert mined.number == before.number + 1 and mined.timestamp > before.timestamp
    offset = _rpc(devnet_w3, "evm_increaseTime", 3600)
    assert offset >= 3600
    _rpc(devnet_w3, "evm_mine")
    assert _latest(devnet_w3).timestamp >= mined.timestamp + 3600
    _rpc(devnet_w3, "evm_increaseTime", "0x3c")  # hex seconds work too
    _rpc(devnet_w3, "evm_mine")
    assert _latest(devnet_w3).timestamp >= mined.timestamp + 3660


def test_set_next_block_timestamp_is_exact(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    target = _latest(devnet_w3).timestamp + 10_000
    _rpc(devnet_w3, "evm_setNextBlockTimestamp", target)
    receipt = _transfer(devnet_w3, devnet_accounts[1])
    assert devnet_w3.eth.get_block(receipt.blockNumber).timestamp == target
    # later blocks continue from there
    _rpc(devnet_w3, "evm_mine")
    assert target < _latest(devnet_w3).timestamp < target + 60
    # not into the past
    answer = devnet_w3.provider.make_request("evm_setNextBlockTimestamp", [target])  # type: ignore[arg-type]
    assert answer["error"]["code"] == -32602


def test_evm_mine_with_timestamp_and_block_count(devnet_w3: Any) -> None:
    target = _latest(devnet_w3).timestamp + 500
    _rpc(devnet_w3, "evm_mine", target)
    assert _latest(devnet_w3).timestamp == target
    start = devnet_w3.eth.block_number
    _rpc(devnet_w3, "evm_mine", {"blocks": 4})
    assert devnet_w3.eth.block_number == start + 4
    _rpc(devnet_w3, "anvil_mine", "0x2", "0x64")  # 2 blocks, 100 s apart
    first, second = (devnet_w3.eth.get_block(start + n) for n in (5, 6))
    assert second.timestamp - first.timestamp == 100


def test_block_timestamp_seen_by_contracts_is_the_next_blocks(devnet_w3: Any) -> None:
    # eth_call on "latest" runs in the context of the next block, as anvil does
    _rpc(devnet_w3, "evm_increaseTime", 7200)
    pending = devnet_w3.eth.get_block("pending")
    assert pending.timestamp >= _latest(devnet_w3).timestamp + 7200


def test_snapshot_and_revert_restore_state_and_clock(
    devnet_w3: Any, devnet_accounts: list[Any]
) -> None:
    account = devnet_accounts[1]
    number = devnet_w3.eth.block_number
    balance = devnet_w3.eth.get_balance(account.address)
    nonce = devnet_w3.eth.get_transaction_count(account.address)
    head = _latest(devnet_w3).hash

    snap = _rpc(devnet_w3, "evm_snapshot")
    receipt = _transfer(devnet_w3, account, 10**18)
    _rpc(devnet_w3, "evm_increaseTime", 10**6)
    inner = _rpc(devnet_w3, "evm_snapshot")
    _rpc(devnet_w3, "evm_mine")
    assert devnet_w3.eth.block_number == number + 2

    assert _rpc(devnet_w3, "evm_revert", snap) is True
    assert devnet_w3.eth.block_number == number
    assert _latest(devnet_w3).hash == head
    assert devnet_w3.eth.get_balance(account.address) == balance
    assert devnet_w3.eth.get_transaction_count(account.address) == nonce
    with pytest.raises(TransactionNotFound):
        devnet_w3.eth.get_transaction(receipt.transactionHash)
    with pytest.raises(TransactionNotFound):
        devnet_w3.eth.get_transaction_receipt(receipt.transactionHash)
    # the clock went back too: the next block is not a million seconds ahead
    _rpc(devnet_w3, "evm_mine")
    assert _latest(devnet_w3).timestamp < devnet_w3.eth.get_block(number).timestamp + 10**5
    # a revert drops that snapshot and every later one
    assert _rpc(devnet_w3, "evm_revert", snap) is False
    assert _rpc(devnet_w3, "evm_revert", inner) is False
    # the chain goes on normally after a revert
    again = _transfer(devnet_w3, account)
    assert again.status == 1 and again.blockNumber == number + 2


def test_nested_snapshots(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    outer = _rpc(devnet_w3, "evm_snapshot")
    base = devnet_w3.eth.block_number
    _transfer(devnet_w3, devnet_accounts[2])
    inner = _rpc(devnet_w3, "evm_snapshot")
    _transfer(devnet_w3, devnet_accounts[2])
    assert _rpc(devnet_w3, "evm_revert", inner) is True
    assert devnet_w3.eth.block_number == base + 1
    assert _rpc(devnet_w3, "evm_revert", outer) is True
    assert devnet_w3.eth.block_number == base


def test_revert_unknown_snapshot_is_false(devnet_w3: Any) -> None:
    assert _rpc(devnet_w3, "evm_revert", "0x999999") is False
