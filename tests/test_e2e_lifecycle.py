"""End to end: the lifecycles around the happy path (cancel, expiry, sources, Vault, agents)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from ogpu.client import (
    DeliveryMethod,
    TaskClosedError,
    cancel_task,
    inactivate_source,
    publish_task,
    set_agent,
    update_source,
    wait_for_response,
)
from ogpu.events import watch_attempted, watch_registered, watch_task_status_changed
from ogpu.protocol import Source, Task, terminal, vault
from ogpu.types import (
    Environment,
    NotMasterError,
    NotProviderError,
    SourceInactiveError,
    SourceStatus,
    TaskAlreadyFinalizedError,
    TaskExpiredError,
    TaskStatus,
    TxRevertError,
    UnbondingPeriodNotElapsedError,
)
from ogpu_devnet.demo import analyze_text

from ogpu import agent

PAYMENT = 10**16


def test_cancel_before_any_attempt_refunds_then_typed_errors(net: Any, providers: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    balance = vault.get_balance_of(net.client)

    task = publish_task(net.task_info(source, {"text": "never run"}), net.client_key)
    assert vault.get_frozen_payment(net.client) == PAYMENT
    receipt = cancel_task(task, net.client_key)
    assert receipt.succeeded
    assert task.get_status() == TaskStatus.CANCELED
    assert vault.get_frozen_payment(net.client) == 0
    assert vault.get_balance_of(net.client) == balance
    with pytest.raises(TaskClosedError):
        wait_for_response(task, timeout=5, poll_interval=0.05)

    # once a provider has answered (FIRST_RESPONSE: finalized), cancelling is a typed error
    providers(analyze_text, sources=[source])
    done = publish_task(net.task_info(source, {"text": "a good day"}), net.client_key)
    wait_for_response(done, timeout=60, poll_interval=0.05)
    with pytest.raises(TaskAlreadyFinalizedError) as info:
        cancel_task(done, net.client_key)
    assert info.value.task == done.address


def test_cancel_after_an_attempt_is_refused(net: Any) -> None:
    """Attempted (not expired) tasks cannot be cancelled; the revert comes back typed."""
    source = net.publish_source()
    net.fund_client()
    _pair_and_stake(net)
    agent.register_to(source, net.provider, Environment.CPU, net.provider_key)
    task = publish_task(net.task_info(source, {"text": "x"}), net.client_key)
    agent.attempt(task, net.provider, PAYMENT, net.provider_key)
    assert task.get_status() == TaskStatus.ATTEMPTED
    with pytest.raises(TxRevertError):
        cancel_task(task, net.client_key)
    assert task.get_status() == TaskStatus.ATTEMPTED


def test_expiry(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    uploads = net.devnet.ipfs.count("/file/create")

    # refused before the upload
    with pytest.raises(TaskExpiredError):
        publish_task(net.task_info(source, {"text": "late"}, expires_in=-1), net.client_key)
    assert net.devnet.ipfs.count("/file/create") == uploads

    task = publish_task(net.task_info(source, {"text": "x"}, expires_in=30), net.client_key)
    _pair_and_stake(net)
    agent.register_to(source, net.provider, Environment.CPU, net.provider_key)
    net.travel(31)
    # an attempt on an expired task marks it EXPIRED, refunds, and records no attempt
    agent.attempt(task, net.provider, PAYMENT, net.provider_key)
    assert task.get_attempt_count() == 0
    with pytest.raises(TaskClosedError):
        wait_for_response(task, timeout=5, poll_interval=0.05)
    assert task.get_status() == TaskStatus.EXPIRED
    assert vault.get_frozen_payment(net.client) == 0

    # cancelling a task past its expiry also expires it
    other = publish_task(net.task_info(source, {"text": "y"}, expires_in=30), net.client_key)
    net.travel(31)
    cancel_task(other, net.client_key)
    assert other.get_status() == TaskStatus.EXPIRED


def test_source_update_and_inactivation(net: Any) -> None:
    source = net.publish_source(DeliveryMethod.FIRST_RESPONSE)
    assert source.get_metadata()["name"] == "sentiment"

    info = net.source_info(DeliveryMethod.MANUAL_CONFIRMATION, name="sentiment-v2")
    info.minPayment = 2 * 10**15
    receipt = update_source(source, info, net.client_key)
    assert receipt.succeeded
    params = Source(source.address).get_params()
    assert params.minPayment == 2 * 10**15
    assert params.deliveryMethod == DeliveryMethod.MANUAL_CONFIRMATION.value
    assert source.get_metadata() == {
        "cpu": "https://example.org/docker-compose.yml",
        "nvidia": "",
        "amd": "",
        "name": "sentiment-v2",
        "description": "word counts and a tiny sentiment lexicon",
        "logoUrl": "https://example.org/logo.png",
    }

    net.fund_client()
    inactivate_source(source, net.client_key)
    assert source.get_status() == SourceStatus.INACTIVE
    with pytest.raises(SourceInactiveError) as info_:
        publish_task(net.task_info(source, {"text": "x"}), net.client_key)
    assert info_.value.source == source.address
    with pytest.raises(SourceInactiveError):
        inactivate_source(source, net.client_key)
    assert vault.get_frozen_payment(net.client) == 0


def test_vault_lifecycle_with_time_travel(net: Any) -> None:
    key, me = net.provider_key, net.provider
    period = vault.get_unbonding_period()
    vault.deposit(me, 5 * 10**17, signer=key)
    vault.lock(3 * 10**17, signer=key)
    assert (vault.get_balance_of(me), vault.get_lockup_of(me)) == (2 * 10**17, 3 * 10**17)
    vault.unbond(10**17, signer=key)
    assert vault.get_unbonding_of(me) == 10**17
    with pytest.raises(UnbondingPeriodNotElapsedError) as info:
        vault.claim(signer=key)
    assert 0 < info.value.remaining_seconds <= period
    net.travel(period + 1)
    vault.claim(signer=key)
    assert vault.get_unbonding_of(me) == 0
    assert vault.get_balance_of(me) == 3 * 10**17
    native = net.w3.eth.get_balance(me)
    receipt = vault.withdraw(3 * 10**17, signer=key)
    tx = net.w3.eth.get_transaction_receipt(receipt.tx_hash)
    fee = tx["gasUsed"] * tx["effectiveGasPrice"]
    assert net.w3.eth.get_balance(me) == native + 3 * 10**17 - fee
    assert vault.get_balance_of(me) == 0
    assert vault.get_lockup_of(me) == 2 * 10**17


def _pair_and_stake(net: Any) -> None:
    terminal.announce_master(net.master, signer=net.provider_key)
    # announceProvider credits the provider's lockup (devnet/docs/live-chain.md row 17; the
    # old stubs credited its balance, so a Vault.lock followed here)
    terminal.announce_provider(net.provider, 10**16, signer=net.master_key)


def test_agent_driven_register_and_attempt(net: Any, events: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    _pair_and_stake(net)
    start = net.w3.eth.block_number + 1
    terminal.set_agent(net.agent, True, signer=net.master_key)  # the master authorises the agent
    assert set_agent(net.agent, True, net.client_key).startswith("0x")  # and so does the client

    agent.register_to(source, net.provider, Environment.CPU, net.agent_key)
    assert net.provider in source.get_registrants()
    task = publish_task(net.task_info(source, {"text": "x"}), net.client_key)
    agent.attempt(task, net.provider, PAYMENT // 2, net.agent_key)
    assert Task(task.address).get_attempters() == [net.provider]
    assert task.get_status() == TaskStatus.ATTEMPTED

    kw = {"from_block": start, "poll_interval": 0.05}
    (registered,) = events(watch_registered(source, **kw), 1)
    assert registered.provider == net.provider
    (attempted,) = events(watch_attempted(task, **kw), 1)
    assert attempted.suggested_payment == PAYMENT // 2
    (status,) = events(watch_task_status_changed(task, **kw), 1)
    assert status.status is TaskStatus.ATTEMPTED

    agent.unregister_from(source, net.provider, net.agent_key)
    assert net.provider not in source.get_registrants()

    # an account that is no agent of the master cannot register the provider
    outsider = Account.create()
    with pytest.raises((NotMasterError, NotProviderError)):
        agent.register_to(source, net.provider, Environment.CPU, outsider.key.hex())
