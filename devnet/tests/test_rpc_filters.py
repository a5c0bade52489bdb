"""Log and block filters over HTTP: every log and block is delivered exactly once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import Web3RPCError

pytestmark = pytest.mark.usefixtures("devnet_isolated")

ETHER = 10**18


def _deposit(w3: Any, vault: Any, account: Any, amount: int) -> Any:
    acct = Account.from_key(account.private_key)
    tx = vault.functions.deposit(acct.address).build_transaction(
        {
            "from": acct.address,
            "value": amount,
            "nonce": w3.eth.get_transaction_count(acct.address),
            "gas": 200_000,
            "maxFeePerGas": 10 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    tx_hash = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)


@pytest.fixture
def vault(devnet: Any, devnet_w3: Any) -> Any:
    from ogpu_devnet.contracts import load_artifact

    return devnet_w3.eth.contract(
        address=devnet.contracts["VAULT"], abi=load_artifact("Vault")["abi"]
    )


def test_log_filter_delivers_each_log_once(
    devnet_w3: Any, devnet_accounts: list[Any], vault: Any
) -> None:
    flt = devnet_w3.eth.filter({"address": vault.address})
    assert flt.get_new_entries() == []
    first = [_deposit(devnet_w3, vault, devnet_accounts[1], i + 1) for i in range(3)]
    got = flt.get_new_entries()
    assert [e["transactionHash"] for e in got] == [r.transactionHash for r in first]
    assert flt.get_new_entries() == []
    devnet_w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    assert flt.get_new_entries() == []
    second = [_deposit(devnet_w3, vault, devnet_accounts[2], 5) for _ in range(2)]
    got = flt.get_new_entries()
    assert [e["transactionHash"] for e in got] == [r.transactionHash for r in second]
    everything = flt.get_all_entries()
    assert [e["transactionHash"] for e in everything] == [r.transactionHash for r in first + second]
    assert devnet_w3.eth.uninstall_filter(flt.filter_id) is True
    assert devnet_w3.eth.uninstall_filter(flt.filter_id) is False
    with pytest.raises(Web3RPCError, match="filter not found"):
        devnet_w3.eth.get_filter_changes(flt.filter_id)


def test_contract_event_filter_with_history(
    devnet_w3: Any, devnet_accounts: list[Any], vault: Any
) -> None:
    early = _deposit(devnet_w3, vault, devnet_accounts[3], 7)
    # from_block in the past: history first (as anvil does), then only new logs
    flt = vault.events.Deposited.create_filter(from_block=early.blockNumber)
    (old,) = flt.get_new_entries()
    assert old.transactionHash == early.transactionHash
    assert old.args.account == devnet_accounts[3].address and old.args.amount == 7
    late = _deposit(devnet_w3, vault, devnet_accounts[4], 11)
    (new,) = flt.get_new_entries()
    assert new.transactionHash == late.transactionHash and new.args.amount == 11
    assert flt.get_new_entries() == []
    assert [e.args.amount for e in flt.get_all_entries()] == [7, 11]


def test_block_filter_delivers_each_block_once(devnet_w3: Any) -> None:
    flt = devnet_w3.eth.filter("latest")
    assert flt.get_new_entries() == []
    start = devnet_w3.eth.block_number
    devnet_w3.provider.make_request("anvil_mine", ["0x3"])  # type: ignore[arg-type]
    hashes = flt.get_new_entries()
    assert hashes == [devnet_w3.eth.get_block(n).hash for n in range(start + 1, start + 4)]
    assert flt.get_new_entries() == []
    pending = devnet_w3.eth.filter("pending")
    assert pending.get_new_entries() == []  # nothing ever waits: every transaction auto-mines


def test_filter_survives_revert_and_sees_new_chain(
    devnet_w3: Any, devnet_accounts: list[Any], vault: Any
) -> None:
    flt = devnet_w3.eth.filter({"address": vault.address})
    snap = devnet_w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    _deposit(devnet_w3, vault, devnet_accounts[1], 1)
    _deposit(devnet_w3, vault, devnet_accounts[1], 2)
    assert len(flt.get_new_entries()) == 2
    devnet_w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    replacement = _deposit(devnet_w3, vault, devnet_accounts[2], 3)
    (entry,) = flt.get_new_entries()
    assert entry["transactionHash"] == replacement.transactionHash


def test_concurrent_pollers_never_duplicate(
    devnet: Any, devnet_accounts: list[Any], vault: Any
) -> None:
    w3: Any = Web3(Web3.HTTPProvider(devnet.rpc_url))
    filter_id = w3.eth.filter({"address": vault.address}).filter_id
    seen: list[bytes] = []
    lock = threading.Lock()
    done = threading.Event()
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            client = Web3(Web3.HTTPProvider(devnet.rpc_url))
            while True:
                finished = done.is_set()
                entries = client.eth.get_filter_changes(filter_id)
                with lock:
                    seen.extend(bytes(e["transactionHash"]) for e in entries)
                if finished:
                    return
        except BaseException as exc:
            errors.append(exc)

    pollers = [threading.Thread(target=poll) for _ in range(3)]
    for thread in pollers:
        thread.start()
    sent = [bytes(_deposit(w3, vault, devnet_accounts[5], 1).transactionHash) for _ in range(12)]
    done.set()
    for thread in pollers:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(seen) == sorted(sent)
