"""``state_dir``: a restarted devnet keeps its chain (block for block) and its pinned content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from ogpu.ipfs import OGPUError
from ogpu_devnet import Devnet
from ogpu_devnet.chain import StateDirError
from ogpu_devnet.errors import DevnetError
from ogpu_devnet.testing import roles
from web3.logs import DISCARD

ETHER = 10**18
ATTEMPTED = 1
FIRST_RESPONSE = 1


def _contract(w3: Any, net: Devnet, name: str, address: str | None = None) -> Any:
    from ogpu_devnet.contracts import load_artifact

    abi = load_artifact(name)["abi"]
    return w3.eth.contract(address=address or net.contracts[name.upper()], abi=abi)


def _send(w3: Any, account: Any, fn: Any, value: int = 0) -> Any:
    acct = Account.from_key(account.private_key)
    tx = fn.build_transaction(
        {
            "from": acct.address,
            "value": value,
            "nonce": w3.eth.get_transaction_count(acct.address),
            "maxFeePerGas": 10 * 10**9,
            "maxPriorityFeePerGas": 10**9,
        }
    )
    tx_hash = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)
    assert receipt.status == 1
    return receipt


def _pin(net: Devnet, payload: dict[str, Any]) -> str:
    assert net.ipfs is not None
    body = json.dumps(payload).encode()
    response = requests.post(
        net.ipfs.publish_url,
        files={"file": ("taskConfig.json", body, "application/json")},
        timeout=10,
    )
    assert response.status_code in (200, 201)
    link: str = response.json()["link"]
    return link


def _build_history(net: Devnet) -> dict[str, Any]:
    """Publish a source and a task, attempt it, and use every journaled control."""
    w3: Any = net.web3()
    r = roles(net)
    client, provider = r.client, r.provider
    nexus, controller, vault = (_contract(w3, net, n) for n in ("Nexus", "Controller", "Vault"))
    config_url = _pin(net, {"function_name": "infer", "data": {"prompt": "hello"}})

    _send(w3, client, vault.functions.deposit(client.address), value=ETHER)
    _send(w3, provider, vault.functions.deposit(provider.address), value=ETHER // 10)
    _send(w3, provider, vault.functions.lock(ETHER // 10))
    params = (
        client.address,
        "https://example/meta.json",
        1,
        10**15,
        0,
        3600,
        False,
        "",
        FIRST_RESPONSE,
        0,
    )
    receipt = _send(w3, client, nexus.functions.publishSource(params))
    (event,) = nexus.events.SourcePublished().process_receipt(receipt, errors=DISCARD)
    source = event.args.source
    _send(w3, provider, nexus.functions.register(source, provider.address, 1))

    # journaled controls: time travel, a snapshot that is reverted, an empty block
    w3.provider.make_request("evm_increaseTime", [120])  # type: ignore[arg-type]
    snap = w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    _send(w3, client, vault.functions.deposit(client.address), value=ETHER)  # reverted below
    w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]

    now = w3.eth.get_block("latest").timestamp
    task_params = (source, config_url, now + 1800, 10**16)
    receipt = _send(w3, client, controller.functions.publishTask(task_params))
    (event,) = nexus.events.TaskPublished().process_receipt(receipt, errors=DISCARD)
    task = event.args.task
    _send(w3, provider, nexus.functions.attempt(task, provider.address, 0))
    task_contract = _contract(w3, net, "Task", task)
    assert task_contract.functions.getStatus().call() == ATTEMPTED
    return {"task": task, "config_url": config_url, "source": source}


def _chain_view(net: Devnet) -> dict[str, Any]:
    w3: Any = net.web3()
    number = w3.eth.block_number
    return {
        "number": number,
        "hashes": [w3.eth.get_block(n).hash for n in range(number + 1)],
        "contracts": dict(net.contracts),
        "vault_balance": w3.eth.get_balance(net.contracts["VAULT"]),
    }


def test_restart_keeps_task_state_and_pinned_config(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Devnet(state_dir=state) as first:
        history = _build_history(first)
        before = _chain_view(first)
        client_nonce = first.web3().eth.get_transaction_count(first.accounts[1].address)  # type: ignore[arg-type]

    with Devnet(state_dir=state) as second:
        after = _chain_view(second)
        assert after == before  # same blocks, same hashes: an exact replay
        w3: Any = second.web3()
        task = _contract(w3, second, "Task", history["task"])
        assert task.functions.getStatus().call() == ATTEMPTED
        params = task.functions.getTaskParams().call()
        assert params[0] == history["source"] and params[1] == history["config_url"]
        assert task.functions.hasAttempted(second.accounts[2].address).call() is True

        # the pinned config survived too (served by the new service under the same CID)
        cid = history["config_url"].rsplit("/", 1)[-1]
        assert second.ipfs is not None
        fetched = requests.get(f"{second.ipfs.gateway_url}/{cid}", timeout=10)
        assert fetched.status_code == 200
        assert fetched.json() == {"function_name": "infer", "data": {"prompt": "hello"}}

        # and the chain goes on from there
        assert w3.eth.get_transaction_count(second.accounts[1].address) == client_nonce
        vault = _contract(w3, second, "Vault")
        _send(w3, second.accounts[1], vault.functions.deposit(second.accounts[1].address), value=1)
        final = _chain_view(second)

    with Devnet(state_dir=state) as third:  # a second restart replays the new block too
        assert _chain_view(third) == final


def test_state_dir_refuses_other_settings(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Devnet(state_dir=state):
        pass
    with pytest.raises(StateDirError, match="chain id"):
        Devnet(state_dir=state, chain_id=999).start()
    with pytest.raises(StateDirError, match="unbonding_period"):
        Devnet(state_dir=state, unbonding_period=5).start()
    assert issubclass(StateDirError, DevnetError)
    assert not issubclass(StateDirError, OGPUError)


def test_corrupt_journal_is_reported(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Devnet(state_dir=state):
        pass
    journal = state / "chain" / "journal.jsonl"
    journal.write_text(journal.read_text() + '{"op": "tx", "raw": "zz"}\n')
    with pytest.raises(StateDirError, match=r"journal\.jsonl"):
        Devnet(state_dir=state).start()


def test_restart_replays_blocks_mined_from_the_pool(tmp_path: Path) -> None:
    """Auto-mining off: a block with several transactions (and a dropped one) replays exactly."""
    state = tmp_path / "state"
    with Devnet(state_dir=state) as first:
        w3: Any = first.web3()
        sender = Account.from_key(first.accounts[1].private_key)
        w3.provider.make_request("evm_setAutomine", [False])
        hashes = []
        for nonce in range(3):
            tx = {
                "to": first.accounts[2].address,
                "value": 10**15,
                "gas": 21000,
                "maxFeePerGas": 10 * 10**9,
                "maxPriorityFeePerGas": 10**9,
                "nonce": nonce,
                "chainId": first.chain_id,
            }
            raw = sender.sign_transaction(tx).raw_transaction
            hashes.append(w3.eth.send_raw_transaction(raw))
        w3.provider.make_request("evm_mine", [])
        assert len(w3.eth.get_block("latest")["transactions"]) == 3
        waiting = w3.eth.send_raw_transaction(
            sender.sign_transaction({**tx, "nonce": 3}).raw_transaction
        )
        before = _chain_view(first)
    with Devnet(state_dir=state) as second:
        assert _chain_view(second) == before
        w3 = second.web3()
        assert [w3.eth.get_transaction_receipt(h)["status"] for h in hashes] == [1, 1, 1]
        # the pool is not persisted, and a restarted devnet auto-mines again
        assert w3.eth.get_transaction_count(sender.address, "pending") == 3
        assert (
            w3.provider.make_request("eth_getTransactionByHash", [waiting.to_0x_hex()])["result"]
            is None
        )
        assert w3.provider.make_request("anvil_getAutomine", [])["result"] is True


def test_a_journal_line_cut_short_by_a_kill_is_dropped(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with Devnet(state_dir=state) as first:
        first.web3().provider.make_request("evm_mine", [])
        before = _chain_view(first)
    journal = state / "chain" / "journal.jsonl"
    complete = journal.read_text()
    journal.write_text(complete + '{"op": "mine", "ts": 12')  # no newline: an unanswered write
    with Devnet(state_dir=state) as second:
        assert _chain_view(second) == before
        second.web3().provider.make_request("evm_mine", [])
        after = _chain_view(second)
    assert journal.read_text().startswith(complete)
    with Devnet(state_dir=state) as third:
        assert _chain_view(third) == after


def test_restart_after_a_replacement_replays_exactly(tmp_path: Path) -> None:
    """A pooled transaction replaced by nonce: the journal holds only the replacement that was
    mined, and a restart rebuilds the same chain (the old hash stays unknown)."""
    state = tmp_path / "state"
    with Devnet(state_dir=state) as first:
        w3: Any = first.web3()
        sender = Account.from_key(first.accounts[1].private_key)
        to = Account.create().address
        w3.provider.make_request("evm_setAutomine", [False])

        def signed(nonce: int, value: int, max_fee: int, tip: int) -> Any:
            return sender.sign_transaction(
                {
                    "to": to,
                    "value": value,
                    "gas": 21000,
                    "maxFeePerGas": max_fee,
                    "maxPriorityFeePerGas": tip,
                    "nonce": nonce,
                    "chainId": first.chain_id,
                }
            )

        old = signed(0, 1, 10 * 10**9, 10**9)
        later = signed(1, 10, 10 * 10**9, 10**9)
        new = signed(0, 2, 11 * 10**9, 11 * 10**8)
        for tx in (old, later, new):
            w3.eth.send_raw_transaction(tx.raw_transaction)
        w3.provider.make_request("evm_mine", [])
        block = w3.eth.get_block("latest")
        assert [bytes(h) for h in block["transactions"]] == [bytes(new.hash), bytes(later.hash)]
        assert w3.eth.get_balance(to) == 12
        before = _chain_view(first)
    journal = (state / "chain" / "journal.jsonl").read_text()
    assert bytes(new.raw_transaction).hex() in journal
    assert bytes(old.raw_transaction).hex() not in journal
    with Devnet(state_dir=state) as second:
        assert _chain_view(second) == before
        w3 = second.web3()
        assert w3.eth.get_transaction_receipt(new.hash)["status"] == 1
        assert (
            w3.provider.make_request("eth_getTransactionByHash", ["0x" + old.hash.hex()])["result"]
            is None
        )
        assert w3.eth.get_balance(to) == 12
        assert w3.eth.get_transaction_count(sender.address, "pending") == 2
