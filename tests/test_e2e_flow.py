"""End to end: client (ogpu.client) -> devnet over HTTP -> provider runtime -> client.

The seed's flow: publish a source and a task, a provider attempts it, runs the handler,
submits the response, the client reads the confirmed payload from IPFS with verification on.
Every step is also observed as an event (ogpu.events), and the Vault's books balance.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from ogpu.chain import ChainConfig
from ogpu.client import (
    DeliveryMethod,
    confirm_response,
    get_task_responses,
    publish_task,
    wait_for_response,
    wait_for_status,
)
from ogpu.events import (
    AttemptedEvent,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
    watch_attempted,
    watch_registered,
    watch_response_status_changed,
    watch_response_submitted,
    watch_task_published,
    watch_task_status_changed,
)
from ogpu.ipfs import compute_cid, fetch_ipfs_bytes, fetch_ipfs_json, parse_ipfs_url
from ogpu.protocol import vault
from ogpu.types import (
    ResponseAlreadyConfirmedError,
    ResponseStatus,
    TaskAlreadyFinalizedError,
    TaskStatus,
)
from ogpu_devnet.demo import analyze_text

PAYMENT = 10**16
TEXT = "The cluster is fast and the support was helpful, but the queue was slow."


def vault_books(accounts: list[str]) -> dict[str, dict[str, int]]:
    """Every Vault ledger entry of ``accounts``."""
    return {
        a: {
            "balance": vault.get_balance_of(a),
            "lockup": vault.get_lockup_of(a),
            "unbonding": vault.get_unbonding_of(a),
            "frozen": vault.get_frozen_payment(a),
        }
        for a in accounts
    }


def assert_vault_conserved(accounts: list[str]) -> None:
    """The Vault holds exactly what its ledgers (over every account that used it) say."""
    w3 = ChainConfig.get_web3()
    vault_address = ChainConfig.get_contract_address("VAULT")
    contract = w3.eth.contract(address=vault_address, abi=ChainConfig.load_abi("Vault"))
    books = vault_books(accounts)
    total = sum(sum(entry.values()) for entry in books.values())
    total += contract.functions.sanctionedAmount().call()
    assert w3.eth.get_balance(vault_address) == total


def test_first_response_happy_path(net: Any, providers: Any, events: Any) -> None:
    start_block = net.w3.eth.block_number + 1
    source = net.publish_source(DeliveryMethod.FIRST_RESPONSE)
    group = providers(analyze_text, sources=[source])
    (provider,) = group.providers
    net.fund_client()
    before = vault_books([net.client, provider])

    task = publish_task(net.task_info(source, {"text": TEXT}), net.client_key, total_timeout=60)
    response = wait_for_response(task, timeout=60, poll_interval=0.05)

    # the chain's view
    assert task.get_status() == TaskStatus.FINALIZED
    assert task.get_winning_provider() == provider
    assert response.get_status() == ResponseStatus.CONFIRMED
    assert response.get_params().provider == provider
    assert task.get_metadata() == {"function_name": "analyze", "data": {"text": TEXT}}

    # the payload, fetched with CID verification on
    url = response.get_data()
    payload = fetch_ipfs_json(url, verify=True)
    assert payload == analyze_text({"text": TEXT})
    assert payload["sentiment"]["positive"] == ["fast", "helpful"]
    assert compute_cid(fetch_ipfs_bytes(url, verify=True)) == parse_ipfs_url(url).cid
    assert response.fetch_data() == payload

    # money: the payment moved from the client's Vault balance to the provider's
    after = vault_books([net.client, provider])
    assert before[net.client]["balance"] - after[net.client]["balance"] == PAYMENT
    assert after[net.client]["frozen"] == before[net.client]["frozen"] == 0
    assert after[provider]["balance"] - before[provider]["balance"] == PAYMENT
    assert vault.get_total_earnings_of(provider) == PAYMENT
    assert_vault_conserved([net.client, *group.providers, *group.masters])

    # every step as an event, replayed from the start block
    kw = {"from_block": start_block, "poll_interval": 0.05}
    (registered,) = events(watch_registered(source, **kw), 1)
    assert isinstance(registered, RegisteredEvent)
    assert registered.provider == provider and registered.source == source
    (published,) = events(watch_task_published(source, **kw), 1)
    assert isinstance(published, TaskPublishedEvent) and published.task == task
    (attempted,) = events(watch_attempted(task, **kw), 1)
    assert isinstance(attempted, AttemptedEvent)
    assert (attempted.provider, attempted.suggested_payment) == (provider, PAYMENT)
    (submitted,) = events(watch_response_submitted(task, **kw), 1)
    assert isinstance(submitted, ResponseSubmittedEvent) and submitted.response == response
    (confirmed,) = events(watch_response_status_changed(response, **kw), 1)
    assert isinstance(confirmed, ResponseStatusChangedEvent)
    assert confirmed.status is ResponseStatus.CONFIRMED
    statuses = events(watch_task_status_changed(task, **kw), 2)
    assert all(isinstance(e, TaskStatusChangedEvent) for e in statuses)
    assert [e.status for e in statuses] == [TaskStatus.ATTEMPTED, TaskStatus.FINALIZED]
    order = [registered, published, attempted, submitted, confirmed]
    positions = [(e.block_number, e.log_index) for e in order]
    assert positions == sorted(positions)
    assert all(e.transaction_hash.startswith("0x") for e in order)


def distinct(input_data: dict[str, Any]) -> dict[str, Any]:
    """Like analyze_text, plus a per-call id: two providers never produce identical payloads."""
    return {**analyze_text(input_data), "run": uuid.uuid4().hex}


def test_manual_confirmation_two_providers(net: Any, providers: Any, events: Any) -> None:
    source = net.publish_source(DeliveryMethod.MANUAL_CONFIRMATION)
    group = providers(distinct, count=2, sources=[source])
    net.fund_client()
    before = vault_books([net.client, *group.providers])

    task = publish_task(net.task_info(source, {"text": TEXT}), net.client_key)
    outcomes = group.wait_for_outcomes(task, 2, timeout=60)
    assert sorted(o.kind for o in outcomes) == ["submitted", "submitted"]
    assert wait_for_status(task, TaskStatus.RESPONDED, timeout=10) == TaskStatus.RESPONDED
    responses = get_task_responses(task.address)
    assert len(responses) == 2
    assert {r.get_params().provider for r in responses} == set(group.providers)
    assert all(r.get_status() == ResponseStatus.SUBMITTED for r in responses)
    assert task.get_confirmed_response() is None
    assert vault.get_frozen_payment(net.client) == PAYMENT  # still escrowed

    chosen, other = responses[1], responses[0]
    tx_hash = confirm_response(chosen.address, net.client_key)
    assert tx_hash.startswith("0x") and len(tx_hash) == 66
    final = wait_for_response(task, timeout=10, poll_interval=0.05)
    assert final == chosen
    winner = chosen.get_params().provider
    assert task.get_winning_provider() == winner
    assert task.get_status() == TaskStatus.FINALIZED
    assert other.get_status() == ResponseStatus.SUBMITTED
    assert fetch_ipfs_json(final.get_data(), verify=True)["words"] == len(TEXT.split())

    with pytest.raises(ResponseAlreadyConfirmedError):
        confirm_response(chosen.address, net.client_key)
    with pytest.raises((TaskAlreadyFinalizedError, ResponseAlreadyConfirmedError)):
        confirm_response(other.address, net.client_key)

    after = vault_books([net.client, *group.providers])
    loser = next(p for p in group.providers if p != winner)
    assert after[winner]["balance"] - before[winner]["balance"] == PAYMENT
    assert after[loser]["balance"] == before[loser]["balance"]
    assert before[net.client]["balance"] - after[net.client]["balance"] == PAYMENT
    assert after[net.client]["frozen"] == 0
    assert_vault_conserved([net.client, *group.providers, *group.masters])

    (changed,) = events(watch_response_status_changed(chosen, from_block=0, poll_interval=0.05), 1)
    assert changed.status is ResponseStatus.CONFIRMED
