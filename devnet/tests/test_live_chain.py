"""The devnet behaves like the live chain: the rows of devnet/docs/live-chain.md that the
stub contracts implement, each checked over the devnet's HTTP JSON-RPC with plain web3.py."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from eth_account import Account
from web3.exceptions import ContractPanicError

from .conftest import (
    CPU,
    MAX_FEE,
    NEW,
    TIP,
    ZERO,
    Protocol,
)

pytestmark = pytest.mark.usefixtures("devnet_isolated")
World = Any  # conftest.World
PAYMENT = 10**16
PANIC_32 = "0x4e487b71" + "00" * 31 + "32"
PANIC_11 = "0x4e487b71" + "00" * 31 + "11"


def _panics(fn: Any, code: str) -> None:
    """``fn.call()`` must revert with exactly Panic(``code``) as web3.py decodes it."""
    with pytest.raises(ContractPanicError) as info:
        fn.call()
    assert info.value.data == (PANIC_32 if code == "0x32" else PANIC_11)
    assert f"Panic error {code}" in str(info.value)


def _publish_many(proto: Protocol, source: str, signer: Any, n: int, payment: int) -> None:
    """Publish ``n`` tasks from ``signer``: raw transactions, consecutive nonces, one batch."""
    acct = Account.from_key(signer.private_key)
    nonce = proto.w3.eth.get_transaction_count(acct.address, "pending")
    expiry = proto.now() + 3000
    probe = proto.controller.functions.publishTask((source, "c0", expiry, payment))
    gas = probe.estimate_gas({"from": acct.address}) * 12 // 10
    batch = []
    for i in range(n):
        fn = proto.controller.functions.publishTask((source, f"c{i}", expiry, payment))
        tx = fn.build_transaction(
            {
                "from": acct.address,
                "nonce": nonce + i,
                "gas": gas,
                "maxFeePerGas": MAX_FEE,
                "maxPriorityFeePerGas": TIP,
                "chainId": proto.chain_id,
            }
        )
        raw = acct.sign_transaction(tx).raw_transaction.hex()
        batch.append(
            {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + raw]}
        )
    url = proto.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    # automine off: a block holds as many tasks as its gas limit allows (far faster than a
    # block per task); the devnet drops what does not fit, so send one block's worth at a time
    per_block = max(1, int(proto.w3.eth.get_block("latest")["gasLimit"]) // gas)
    answers: list[Any] = []
    proto.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        for start in range(0, n, per_block):
            answers += requests.post(url, json=batch[start : start + per_block], timeout=60).json()
            proto.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        proto.w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    assert all("result" in a for a in answers), answers[:2]
    last = proto.w3.eth.get_transaction_receipt(answers[-1]["result"])
    assert last["status"] == 1, last


def test_get_tasks_inclusive_bounds(proto: Protocol, proto_world: World) -> None:
    """Rows 1, 2, 5: getTasks(0, n-1) returns n items; (0, n) and (1, n-1) panic 0x32."""
    w = proto_world
    tasks = [proto.publish_task(w.src_manual, w.client) for _ in range(3)]
    s = proto.source(w.src_manual).functions
    n = s.getTaskCount().call()
    assert n == 3
    assert s.getTasks(0, n - 1).call() == tasks
    assert s.getTasks(0, 0).call() == tasks[:1]
    _panics(s.getTasks(0, n), "0x32")
    _panics(s.getTasks(1, n - 1), "0x32")
    assert [s.tasks(i).call() for i in range(n)] == tasks  # the public array getter


def test_task_getters_inclusive(proto: Protocol, proto_world: World) -> None:
    """Row 1: the Task getters are inclusive, relative (lower > 0 works), panic past the end."""
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client)
    proto.attempt(task_addr, w.provider)
    proto.attempt(task_addr, w.provider2)
    t = proto.task(task_addr).functions
    assert t.getAttempters(0, 1).call() == [w.provider.address, w.provider2.address]
    assert t.getAttempters(1, 1).call() == [w.provider2.address]
    stamps = t.getAttemptTimestamps(0, 1).call()
    assert len(stamps) == 2 and t.getAttemptTimestamps(1, 1).call() == stamps[1:]
    for getter in (t.getAttempters, t.getAttemptTimestamps, t.getResponsesOf):
        _panics(getter(0, 2), "0x32")
        _panics(getter(2, 2), "0x32")


def test_panic_data_is_exact_over_http(proto: Protocol, proto_world: World) -> None:
    """Row 2: the raw eth_call answer carries solc's exact Panic(0x32) revert data."""
    w = proto_world
    data = proto.source(w.src_manual).encode_abi("getTasks", args=[0, 0])
    url = proto.w3.provider.endpoint_uri  # type: ignore[attr-defined]
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "eth_call",
        "params": [{"to": w.src_manual, "data": data}, "latest"],
    }
    answer = requests.post(url, json=body, timeout=10).json()
    assert answer["error"]["code"] == 3
    assert answer["error"]["data"] == PANIC_32


def test_lower_above_upper_panics_0x11(proto: Protocol, proto_world: World) -> None:
    """Row 4 (our choice): lower > upper underflows like solc's hi - lo + 1."""
    w = proto_world
    proto.publish_task(w.src_manual, w.client)
    _panics(proto.source(w.src_manual).functions.getTasks(1, 0), "0x11")
    _panics(proto.nexus.functions.getSources(1, 0), "0x11")


def test_source_getters_absolute_indexing(proto: Protocol, proto_world: World) -> None:
    """Row 5: Source.getRegistrants/getTasks panic whenever lower > 0, even in range."""
    w = proto_world
    s = proto.source(w.src_first).functions
    assert s.getRegistrantCount().call() == 2
    assert s.getRegistrants(0, 1).call() == [w.provider.address, w.provider2.address]
    _panics(s.getRegistrants(1, 1), "0x32")
    proto.publish_task(w.src_first, w.client)
    proto.publish_task(w.src_first, w.client)
    _panics(s.getTasks(1, 1), "0x32")
    assert len(s.getTasks(0, 1).call()) == 2


def test_responses_of_indexed_by_attempter_with_holes(proto: Protocol, proto_world: World) -> None:
    """Row 6: getResponsesOf entry i = attempter i's response, zero where none."""
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client)
    proto.attempt(task_addr, w.provider)
    proto.attempt(task_addr, w.provider2)
    t = proto.task(task_addr).functions
    assert t.getResponsesOf(0, 1).call() == [ZERO, ZERO]
    r2, _ = proto.submit(task_addr, w.provider2, "ipfs://two", PAYMENT)
    assert t.getResponsesOf(0, 1).call() == [ZERO, r2]  # the hole: provider has not responded
    assert t.getResponsesOf(1, 1).call() == [r2]
    r1, _ = proto.submit(task_addr, w.provider, "ipfs://one", PAYMENT)
    assert t.getResponsesOf(0, 1).call() == [r1, r2]


def test_get_sources_inclusive(proto: Protocol, proto_world: World) -> None:
    """Row 7 (our choice): Nexus.getSources is inclusive, relative, panics past the end."""
    n = proto.nexus.functions
    total = n.getSourceCount().call()
    everything = n.getSources(0, total - 1).call()
    assert len(everything) == total == len(set(everything))
    assert n.getSources(1, total - 1).call() == everything[1:]
    _panics(n.getSources(0, total), "0x32")


def test_publish_task_accepts_past_expiry(proto: Protocol, proto_world: World) -> None:
    """Row 8: a task whose expiryTime has passed is accepted (and can only expire)."""
    w = proto_world
    past = proto.now() - 100
    receipt = proto.send(
        proto.controller.functions.publishTask((w.src_manual, "c", past, PAYMENT)), w.client
    )
    (event,) = proto.events(receipt, proto.nexus, "TaskPublished")
    task = proto.task(event["task"]).functions
    assert task.getExpiryTime().call() == past and task.getStatus().call() == NEW
    receipt = proto.attempt(event["task"], w.provider)  # past expiry: expires it, refunds
    assert proto.events(receipt, proto.nexus, "Attempted") == []
    assert proto.ledger(w.client.address)["frozen"] == 0


def test_any_client_publishes_to_active_source(proto: Protocol, proto_world: World) -> None:
    """Row 10: client2 publishes to client's source; client2's balance is frozen and client2
    (not the source's owner) cancels and confirms."""
    w = proto_world
    c = proto.controller.functions
    proto.send(proto.vault.functions.deposit(w.client2.address), w.client2, value=3 * PAYMENT)
    owner_before = proto.ledger(w.client.address)
    task_a = proto.publish_task(w.src_manual, w.client2)
    assert proto.ledger(w.client2.address)["frozen"] == PAYMENT
    assert proto.ledger(w.client.address) == owner_before
    proto.expect_revert(c.cancelTask(task_a), w.client, "NotOwner")
    proto.send(c.cancelTask(task_a), w.client2)
    assert proto.ledger(w.client2.address) == {
        "balance": 3 * PAYMENT,
        "lockup": 0,
        "unbonding": 0,
        "frozen": 0,
    }

    task_b = proto.publish_task(w.src_manual, w.client2)
    proto.attempt(task_b, w.provider)
    response, _ = proto.submit(task_b, w.provider, "ipfs://b", PAYMENT // 2)
    proto.expect_revert(c.confirmResponse(response), w.client, "NotOwner")
    proto.send(c.confirmResponse(response), w.client2)
    assert proto.ledger(w.client2.address)["balance"] == 3 * PAYMENT - PAYMENT // 2
    assert proto.ledger(w.client.address) == owner_before
    proto.assert_conserved(w.vault_accounts())

    proto.send(proto.nexus.functions.inactivateSource(w.src_manual), w.client)
    proto.expect_revert(
        c.publishTask((w.src_manual, "c", proto.now() + 100, PAYMENT)), w.client2, "SourceInactive"
    )


def test_terminal_roles(proto: Protocol, proto_world: World, devnet_accounts: list[Any]) -> None:
    """Rows 16-18: providers cannot set agents; announceProvider credits the provider's
    lockup; a provider's setDefaultAgentDisabled keeps the default agent from acting for it."""
    w = proto_world
    t, n = proto.terminal.functions, proto.nexus.functions
    proto.expect_revert(t.setAgent(w.outsider.address, True), w.provider, "NotClientOrMaster")
    proto.send(t.setAgent(w.outsider.address, True), w.client2)  # a client may

    provider, master = devnet_accounts[8], devnet_accounts[9]
    proto.send(t.announceMaster(master.address), provider)
    amount = 10**17
    proto.send(t.announceProvider(provider.address, amount), master, value=amount)
    assert proto.ledger(provider.address)["lockup"] == amount
    assert proto.vault.functions.isEligible(provider.address).call() is True

    default_agent = proto.ours("Terminal", proto.terminal.address).functions.defaultAgent().call()
    register = n.register(w.src_manual, provider.address, CPU)
    register.call({"from": default_agent})  # the default agent may act for it...
    proto.send(t.setDefaultAgentDisabled(True), provider)
    proto.expect_revert(register, default_agent, "NotMaster")  # ...until the provider opts out
    proto.send(register, master)  # its master still may
    assert proto.source(w.src_manual).functions.getRegistrantCount().call() == 3


@pytest.mark.slow
def test_no_clamping_and_no_1000_cap(proto: Protocol, proto_world: World) -> None:
    """Row 3: one call returns 1001 items (the old stubs stopped at 1000); row 20: the gas
    a (0, hi) read costs grows linearly with hi (measured with eth_estimateGas)."""
    w = proto_world
    proto.send(proto.vault.functions.deposit(w.client2.address), w.client2, value=1001 * 10**15)
    _publish_many(proto, w.src_manual, w.client2, 1001, 10**15)
    s = proto.source(w.src_manual).functions
    assert s.getTaskCount().call() == 1001
    everything = s.getTasks(0, 1000).call()
    assert len(everything) == 1001 == len(set(everything))
    assert everything[1000] == s.tasks(1000).call()
    _panics(s.getTasks(0, 1001), "0x32")
    gas_100 = s.getTasks(0, 99).estimate_gas()
    gas_1001 = s.getTasks(0, 1000).estimate_gas()
    per_item = (gas_1001 - gas_100) / 901
    assert 2100 <= per_item <= 3000, per_item  # a cold SLOAD (2100) plus the copy, per item
