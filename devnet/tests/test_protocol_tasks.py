"""Tasks, attempts, responses and confirmation on the devnet's stub contracts (plain web3.py).

Covers protocol.md "Task": publishTask, attempt (and expiry on attempt), submitResponse with
FIRST_RESPONSE auto-confirmation and MANUAL_CONFIRMATION, confirmResponse, cancelTask, the
escrow moving through the Vault, and the revert reasons of each step.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("backend_isolated")

# enums of network.md (conftest is not importable under --import-mode=importlib)
NEW, ATTEMPTED, RESPONDED, CANCELED, EXPIRED, FINALIZED = range(6)
SUBMITTED, CONFIRMED = 0, 1
MANUAL_CONFIRMATION, FIRST_RESPONSE = 0, 1
CPU = 1
ZERO = "0x0000000000000000000000000000000000000000"
PAYMENT = 10**16

Protocol = Any  # conftest.Protocol
World = Any  # conftest.World


def _status_events(proto: Protocol, receipt: Any) -> list[tuple[str, int]]:
    return [
        (e["task"], e["status"]) for e in proto.events(receipt, proto.nexus, "TaskStatusChanged")
    ]


def test_publish_task_freezes_payment(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    before = proto.ledger(w.client.address)
    expiry = proto.now() + 500
    params = (w.src_manual, "https://ipfs.example/ipfs/QmCfg", expiry, PAYMENT)
    receipt = proto.send(proto.controller.functions.publishTask(params), w.client)
    (event,) = proto.events(receipt, proto.nexus, "TaskPublished")
    assert event["source"] == w.src_manual
    task = proto.task(event["task"]).functions

    assert tuple(task.taskParams().call()) == params
    assert task.getSource().call() == w.src_manual
    assert task.getExpiryTime().call() == expiry
    assert task.getPayment().call() == PAYMENT
    assert task.getStatus().call() == NEW
    assert task.status().call() == NEW
    assert task.getDeliveryMethod().call() == MANUAL_CONFIRMATION
    assert task.deliveryMethod().call() == MANUAL_CONFIRMATION
    assert task.getAttemptCount().call() == 0
    assert task.winningProvider().call() == ZERO
    source = proto.source(w.src_manual).functions
    assert source.getTaskCount().call() == 1
    assert source.tasks(0).call() == event["task"]
    assert source.getTasks(0, 0).call() == [event["task"]]

    after = proto.ledger(w.client.address)
    assert after["balance"] == before["balance"] - PAYMENT
    assert after["frozen"] == before["frozen"] + PAYMENT
    proto.assert_conserved(w.vault_accounts())


def test_publish_task_by_another_client_escrows_its_balance(
    proto: Protocol, proto_world: World
) -> None:
    """Live semantics (live-chain.md row 10): anyone publishes to an ACTIVE source; the
    publisher's balance is frozen and the publisher owns the task (was: source owner only)."""
    w = proto_world
    proto.send(proto.vault.functions.deposit(w.agent.address), w.agent, value=PAYMENT)
    task = proto.publish_task(w.src_first, w.client, signer=w.agent)
    assert proto.task(task).functions.getDeliveryMethod().call() == FIRST_RESPONSE
    assert proto.ledger(w.agent.address)["frozen"] == PAYMENT
    assert proto.ledger(w.client.address)["frozen"] == 0


def test_publish_task_reverts(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    now = proto.now()
    publish = proto.controller.functions.publishTask

    def params(**kw: Any) -> tuple[Any, ...]:
        p = {"source": w.src_first, "config": "c", "expiry": now + 100, "payment": PAYMENT}
        p.update(kw)
        return (p["source"], p["config"], p["expiry"], p["payment"])

    # anyone may publish (live-chain.md row 10): an unfunded outsider fails on its own balance
    proto.expect_revert(publish(params()), w.outsider, "InsufficientBalance")
    proto.expect_revert(publish(params(payment=10**15 - 1)), w.client, "PaymentTooLow")
    proto.expect_revert(publish(params(expiry=now + 3601 + 60)), w.client, "ExpiryTooLong")
    proto.expect_revert(publish(params(payment=11 * 10**18)), w.client, "InsufficientBalance")
    proto.expect_revert(publish(params(source=w.outsider.address)), w.client, "UnknownSource")


def test_first_response_auto_confirms_and_pays(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_first, w.client)
    task = proto.task(task_addr).functions
    client_before = proto.ledger(w.client.address)
    provider_before = proto.ledger(w.provider.address)

    receipt = proto.attempt(task_addr, w.provider, suggested=123)
    assert proto.events(receipt, proto.nexus, "Attempted") == [
        {"task": task_addr, "provider": w.provider.address, "suggestedPayment": 123}
    ]
    assert _status_events(proto, receipt) == [(task_addr, ATTEMPTED)]
    assert task.getStatus().call() == ATTEMPTED
    assert task.getAttemptCount().call() == 1
    assert task.attempters(0).call() == w.provider.address
    assert task.getAttempters(0, 0).call() == [w.provider.address]
    assert task.getAttempterId(w.provider.address).call() == 0
    attempt_time = proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert task.attemptTimestamps(0).call() == attempt_time
    assert task.getAttemptTimestamps(0, 0).call() == [attempt_time]

    paid = PAYMENT - 10**15
    data = "https://ipfs.example/ipfs/QmResult"
    response_addr, receipt = proto.submit(task_addr, w.provider, data, paid)
    assert proto.events(receipt, proto.nexus, "ResponseSubmitted") == [
        {"response": response_addr, "task": task_addr}
    ]
    assert proto.events(receipt, proto.nexus, "ResponseStatusChanged") == [
        {"response": response_addr, "status": CONFIRMED}
    ]
    assert _status_events(proto, receipt) == [(task_addr, FINALIZED)]

    response = proto.response(response_addr).functions
    assert response.getStatus().call() == CONFIRMED
    assert response.confirmedFinal().call() is True
    assert tuple(response.getResponseParams().call()) == (
        task_addr,
        w.provider.address,
        data,
        paid,
    )
    assert tuple(response.responseParams().call()) == (task_addr, w.provider.address, data, paid)
    block_time = proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert response.responseTimestamp().call() == block_time
    assert task.getStatus().call() == FINALIZED
    assert task.winningProvider().call() == w.provider.address
    assert task.responseOf(w.provider.address).call() == response_addr
    assert task.getResponsesOf(0, 0).call() == [response_addr]
    assert task.isAlreadySubmitted(proto.w3.keccak(text=data)).call() is True

    # payment: provider gets `paid`, the rest of the escrow returns to the client
    client_after = proto.ledger(w.client.address)
    provider_after = proto.ledger(w.provider.address)
    assert client_after["frozen"] == client_before["frozen"] - PAYMENT
    assert client_after["balance"] == client_before["balance"] + PAYMENT - paid
    assert provider_after["balance"] == provider_before["balance"] + paid
    assert proto.vault.functions.totalEarningsOf(w.provider.address).call() == paid
    proto.assert_conserved(w.vault_accounts())

    # nothing more happens to a finalized task
    proto.expect_revert(
        proto.nexus.functions.attempt(task_addr, w.provider2.address, 0), w.provider2,
        "AlreadyFinalized",
    )  # fmt: skip
    proto.expect_revert(
        proto.controller.functions.confirmResponse(response_addr), w.client, "AlreadyConfirmed"
    )
    proto.expect_revert(
        proto.controller.functions.cancelTask(task_addr), w.client, "AlreadyFinalized"
    )


def test_manual_confirmation_then_confirm(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client)
    task = proto.task(task_addr).functions
    proto.attempt(task_addr, w.provider, signer=w.master)  # the master attempts for its provider
    receipt = proto.attempt(task_addr, w.provider2)
    assert _status_events(proto, receipt) == []  # already ATTEMPTED
    r1, receipt = proto.submit(task_addr, w.provider, "ipfs://one", PAYMENT)
    assert _status_events(proto, receipt) == [(task_addr, RESPONDED)]
    assert proto.events(receipt, proto.nexus, "ResponseStatusChanged") == []
    r2, receipt = proto.submit(task_addr, w.provider2, "ipfs://two", PAYMENT // 2)
    assert _status_events(proto, receipt) == []
    assert task.getStatus().call() == RESPONDED
    assert task.getResponsesOf(0, 1).call() == [r1, r2]
    assert proto.response(r1).functions.getStatus().call() == SUBMITTED
    assert proto.response(r1).functions.confirmedFinal().call() is False

    confirm = proto.controller.functions.confirmResponse
    proto.expect_revert(confirm(r2), w.outsider, "NotOwner")
    proto.expect_revert(confirm(r2), w.provider2, "NotOwner")
    client_before = proto.ledger(w.client.address)
    receipt = proto.send(confirm(r2), w.client)
    assert proto.events(receipt, proto.nexus, "ResponseStatusChanged") == [
        {"response": r2, "status": CONFIRMED}
    ]
    assert _status_events(proto, receipt) == [(task_addr, FINALIZED)]
    assert task.getStatus().call() == FINALIZED
    assert task.winningProvider().call() == w.provider2.address
    assert proto.response(r2).functions.getStatus().call() == CONFIRMED
    assert proto.ledger(w.provider2.address)["balance"] == PAYMENT // 2
    client_after = proto.ledger(w.client.address)
    assert client_after["balance"] == client_before["balance"] + PAYMENT - PAYMENT // 2
    assert client_after["frozen"] == client_before["frozen"] - PAYMENT
    proto.expect_revert(confirm(r2), w.client, "AlreadyConfirmed")
    proto.expect_revert(confirm(r1), w.client, "AlreadyFinalized")
    proto.assert_conserved(w.vault_accounts())


def test_confirm_by_agent_and_unknown_response(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client)
    proto.attempt(task_addr, w.provider, signer=w.agent)  # agent of the master
    response, _ = proto.submit(task_addr, w.provider, "ipfs://r", PAYMENT)
    confirm = proto.controller.functions.confirmResponse
    proto.expect_revert(confirm(task_addr), w.client, "UnknownResponse")
    proto.send(confirm(response), w.agent)  # agent of the client
    assert proto.task(task_addr).functions.getStatus().call() == FINALIZED


def test_submit_response_reverts(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client)
    submit = proto.nexus.functions.submitResponse
    # only the provider itself submits, and only after attempting
    proto.expect_revert(submit((task_addr, w.provider.address, "x", 1)), w.master, "NotProvider")
    proto.expect_revert(submit((task_addr, w.provider.address, "x", 1)), w.agent, "NotProvider")
    proto.expect_revert(submit((task_addr, w.provider.address, "x", 1)), w.provider, "NotAttempted")
    proto.expect_revert(
        submit((w.src_manual, w.provider.address, "x", 1)), w.provider, "UnknownTask"
    )
    proto.attempt(task_addr, w.provider)
    proto.attempt(task_addr, w.provider2)
    fn = submit((task_addr, w.provider.address, "x", PAYMENT + 1))
    proto.expect_revert(fn, w.provider, "PaymentTooHigh")
    proto.submit(task_addr, w.provider, "same-data", 1)
    proto.expect_revert(
        submit((task_addr, w.provider.address, "other", 1)), w.provider, "AlreadyResponded"
    )
    fn = submit((task_addr, w.provider2.address, "same-data", 1))
    proto.expect_revert(fn, w.provider2, "AlreadySubmitted")
    proto.submit(task_addr, w.provider2, "different-data", 1)


def test_attempt_reverts(proto: Protocol, proto_world: World, backend_accounts: list[Any]) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_first, w.client)
    attempt = proto.nexus.functions.attempt
    stranger = backend_accounts[8]  # not registered anywhere
    proto.expect_revert(attempt(task_addr, stranger.address, 0), stranger, "NotRegistered")
    proto.expect_revert(attempt(task_addr, w.provider.address, 0), w.outsider, "NotMaster")
    proto.expect_revert(attempt(task_addr, w.provider2.address, 0), w.outsider, "NotProvider")
    proto.expect_revert(attempt(w.src_first, w.provider.address, 0), w.provider, "UnknownTask")
    proto.attempt(task_addr, w.provider)
    proto.expect_revert(attempt(task_addr, w.provider.address, 0), w.provider, "AlreadyAttempted")
    # a provider whose lockup fell under the minimum is no longer eligible
    lockup = proto.vault.functions.lockupOf(w.provider2.address).call()
    proto.send(proto.vault.functions.unbond(lockup), w.provider2)
    assert proto.vault.functions.isEligible(w.provider2.address).call() is False
    proto.expect_revert(attempt(task_addr, w.provider2.address, 0), w.provider2, "NotEligible")


def test_cancel_new_task_refunds(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    before = proto.ledger(w.client.address)
    task_addr = proto.publish_task(w.src_first, w.client)
    cancel = proto.controller.functions.cancelTask(task_addr)
    proto.expect_revert(cancel, w.outsider, "NotOwner")
    proto.expect_revert(cancel, w.provider, "NotOwner")
    receipt = proto.send(cancel, w.client)
    assert _status_events(proto, receipt) == [(task_addr, CANCELED)]
    assert proto.task(task_addr).functions.getStatus().call() == CANCELED
    assert proto.ledger(w.client.address) == before
    proto.expect_revert(cancel, w.client, "NotCancelable")
    attempt = proto.nexus.functions.attempt(task_addr, w.provider.address, 0)
    proto.expect_revert(attempt, w.provider, "Canceled")
    proto.expect_revert(proto.controller.functions.cancelTask(w.src_first), w.client, "UnknownTask")
    proto.assert_conserved(w.vault_accounts())


def test_cancel_attempted_task_only_after_expiry(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    before = proto.ledger(w.client.address)
    task_addr = proto.publish_task(w.src_manual, w.client, expires_in=300)
    proto.attempt(task_addr, w.provider)
    cancel = proto.controller.functions.cancelTask(task_addr)
    proto.expect_revert(cancel, w.client, "NotCancelable")
    proto.travel(301)
    receipt = proto.send(cancel, w.agent)  # the client's agent may cancel too
    assert _status_events(proto, receipt) == [(task_addr, EXPIRED)]
    assert proto.task(task_addr).functions.getStatus().call() == EXPIRED
    assert proto.ledger(w.client.address) == before
    proto.expect_revert(cancel, w.client, "NotCancelable")
    proto.assert_conserved(w.vault_accounts())


def test_attempt_after_expiry_expires_task(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    before = proto.ledger(w.client.address)
    task_addr = proto.publish_task(w.src_first, w.client, expires_in=120)
    proto.travel(121)
    receipt = proto.attempt(task_addr, w.provider)  # does not revert
    assert proto.events(receipt, proto.nexus, "Attempted") == []
    assert _status_events(proto, receipt) == [(task_addr, EXPIRED)]
    task = proto.task(task_addr).functions
    assert task.getStatus().call() == EXPIRED
    assert task.getAttemptCount().call() == 0
    assert proto.ledger(w.client.address) == before
    attempt = proto.nexus.functions.attempt(task_addr, w.provider.address, 0)
    proto.expect_revert(attempt, w.provider, "Expired")
    proto.assert_conserved(w.vault_accounts())


def test_submit_after_expiry_reverts(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_first, w.client, expires_in=120)
    proto.attempt(task_addr, w.provider)
    proto.travel(121)
    fn = proto.nexus.functions.submitResponse((task_addr, w.provider.address, "late", 1))
    proto.expect_revert(fn, w.provider, "Expired")


def test_confirm_after_expiry_of_responded_task(proto: Protocol, proto_world: World) -> None:
    """A RESPONDED task can still be confirmed after expiry, until someone expires it."""
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client, expires_in=120)
    proto.attempt(task_addr, w.provider)
    response, _ = proto.submit(task_addr, w.provider, "in-time", PAYMENT)
    proto.travel(121)
    proto.send(proto.controller.functions.confirmResponse(response), w.client)
    assert proto.task(task_addr).functions.getStatus().call() == FINALIZED
    assert proto.ledger(w.provider.address)["balance"] == PAYMENT
    proto.assert_conserved(w.vault_accounts())


def test_expired_responded_task_cannot_be_confirmed(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client, expires_in=120)
    proto.attempt(task_addr, w.provider)
    response, _ = proto.submit(task_addr, w.provider, "in-time", PAYMENT)
    proto.travel(121)
    proto.send(proto.controller.functions.cancelTask(task_addr), w.client)
    assert proto.task(task_addr).functions.getStatus().call() == EXPIRED
    fn = proto.controller.functions.confirmResponse(response)
    proto.expect_revert(fn, w.client, "NotConfirmable")
    proto.assert_conserved(w.vault_accounts())


def test_insufficient_balance_after_escrow(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    balance = proto.vault.functions.balanceOf(w.client.address).call()
    proto.publish_task(w.src_first, w.client, payment=balance - 10**15)
    params = (w.src_first, "c", proto.now() + 100, 2 * 10**15)
    fn = proto.controller.functions.publishTask(params)
    proto.expect_revert(fn, w.client, "InsufficientBalance")


def _next_block_at(proto: Protocol, timestamp: int) -> None:
    proto.w3.provider.make_request("evm_setNextBlockTimestamp", [timestamp])


def test_publish_task_expiry_bounds_are_exact(proto: Protocol, proto_world: World) -> None:
    """expiryTime <= now + maxExpiryDuration (3600 on the world's sources); a past expiryTime
    is accepted (live-chain.md row 8; was: reverted `Expired`)."""
    w = proto_world
    publish = proto.controller.functions.publishTask
    at = proto.now() + 50
    _next_block_at(proto, at)  # eth_call runs in the next block's context
    proto.expect_revert(publish((w.src_first, "c", at + 3601, PAYMENT)), w.client, "ExpiryTooLong")
    receipt = proto.send(publish((w.src_first, "c", at + 3600, PAYMENT)), w.client)
    assert proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == at
    _next_block_at(proto, at + 10)
    receipt = proto.send(publish((w.src_first, "c", at + 11, PAYMENT)), w.client)
    (event,) = proto.events(receipt, proto.nexus, "TaskPublished")
    assert proto.task(event["task"]).functions.getStatus().call() == NEW


def test_attempt_and_cancel_at_exactly_the_expiry_time(proto: Protocol, proto_world: World) -> None:
    """Expiry means now > expiryTime: at expiryTime itself the task is still live."""
    w = proto_world
    task_addr = proto.publish_task(w.src_manual, w.client, expires_in=300)
    task = proto.task(task_addr).functions
    expiry = task.getExpiryTime().call()
    _next_block_at(proto, expiry - 1)
    proto.attempt(task_addr, w.provider)
    _next_block_at(proto, expiry)  # the eth_call below and the next block run at expiryTime
    cancel = proto.controller.functions.cancelTask(task_addr)
    proto.expect_revert(cancel, w.client, "NotCancelable")  # ATTEMPTED and not yet expired
    receipt = proto.attempt(task_addr, w.provider2)
    assert proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"] == expiry
    assert proto.events(receipt, proto.nexus, "Attempted") != []
    assert task.getStatus().call() == ATTEMPTED and task.getAttemptCount().call() == 2
    _next_block_at(proto, expiry + 1)
    receipt = proto.send(cancel, w.client)
    assert _status_events(proto, receipt) == [(task_addr, EXPIRED)]


def test_attempt_on_expired_attempted_task_returns_escrow_without_reverting(
    proto: Protocol, proto_world: World
) -> None:
    w = proto_world
    before = proto.ledger(w.client.address)
    task_addr = proto.publish_task(w.src_manual, w.client, expires_in=120)
    proto.attempt(task_addr, w.provider)
    assert proto.ledger(w.client.address)["frozen"] == before["frozen"] + PAYMENT
    proto.travel(121)
    receipt = proto.attempt(task_addr, w.provider2)  # mined with status 1
    assert receipt["status"] == 1
    assert proto.events(receipt, proto.nexus, "Attempted") == []
    assert _status_events(proto, receipt) == [(task_addr, EXPIRED)]
    task = proto.task(task_addr).functions
    assert task.getAttemptCount().call() == 1  # provider2's attempt was not recorded
    assert proto.ours("Task", task_addr).functions.hasAttempted(w.provider2.address).call() is False
    assert proto.ledger(w.client.address) == before
    proto.assert_conserved(w.vault_accounts())
