"""Integration tests of ogpu.protocol against the devnet over HTTP (each test isolated)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from ogpu.chain import ZERO_ADDRESS, ChainConfig
from ogpu.protocol import (
    Master,
    Provider,
    Response,
    Source,
    Task,
    controller,
    nexus,
    snapshot_all,
    terminal,
    vault,
)
from ogpu.types import (
    DeliveryMethod,
    Environment,
    InsufficientBalanceError,
    InsufficientLockupError,
    MasterNotFoundError,
    MasterSnapshot,
    MissingSignerError,
    NotProviderError,
    NotSourceOwnerError,
    NotTaskOwnerError,
    ProviderNotFoundError,
    ProviderSnapshot,
    Receipt,
    ResponseAlreadyConfirmedError,
    ResponseNotFoundError,
    ResponseStatus,
    SourceInactiveError,
    SourceNotFoundError,
    SourceStatus,
    TaskAlreadyFinalizedError,
    TaskExpiredError,
    TaskNotFoundError,
    TaskStatus,
    TxRevertError,
    UnbondingPeriodNotElapsedError,
)

ETHER = 10**18


# ------------------------------------------------------------------------- sources


def test_publish_source_and_read_it_back(net: Any) -> None:
    receipt = nexus.publish_source(
        net.source_params(envs=5, delivery=1), signer=net.client.private_key
    )
    assert isinstance(receipt, Receipt) and receipt.status == 1 and receipt.timestamp > 0
    source = Source.load(nexus.extract_source_address(receipt))
    assert source.get_client() == net.client.address
    assert source.get_status() is SourceStatus.ACTIVE
    params = source.get_params()
    assert params.client == net.client.address
    assert params.imageEnvironments == 5 and params.deliveryMethod == 1
    assert source.get_metadata()["name"] == "test source"
    assert source.get_task_count() == 0 and source.get_tasks() == []
    assert source.get_registrant_count() == 0 and source.get_registrants() == []
    snap = source.snapshot()
    assert snap.address == source.address and snap.client == net.client.address
    assert snap.status is SourceStatus.ACTIVE and snap.params == params
    assert (snap.task_count, snap.registrant_count) == (0, 0)
    assert nexus.get_source_count() >= 1 and source.address in nexus.get_sources()


def test_update_and_inactivate_source(net: Any) -> None:
    source = net.publish_source()
    new = net.source_params(min_payment=77)
    assert source.set_params(new, signer=net.client.private_key).status == 1
    assert source.get_params().minPayment == 77
    nexus.update_source(
        source.address, net.source_params(min_payment=78), signer=net.client.private_key
    )
    assert source.get_params().minPayment == 78
    source.inactivate(signer=net.client.private_key)
    assert source.get_status() is SourceStatus.INACTIVE
    with pytest.raises(SourceInactiveError) as err:
        nexus.inactivate_source(source.address, signer=net.client.private_key)
    assert err.value.source == source.address


def test_not_source_owner_mapping(net: Any) -> None:
    source = net.publish_source()
    with pytest.raises(NotSourceOwnerError) as err:
        nexus.update_source(source.address, net.source_params(), signer=net.other.private_key)
    assert err.value.source == source.address and err.value.caller == net.other.address
    with pytest.raises(NotSourceOwnerError):
        nexus.inactivate_source(source.address, signer=net.other.private_key)


def test_signer_from_environment(net: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", net.client.private_key)
    receipt = nexus.publish_source(net.source_params())
    assert Source(nexus.extract_source_address(receipt)).get_client() == net.client.address
    monkeypatch.delenv("CLIENT_PRIVATE_KEY")
    with pytest.raises(MissingSignerError) as err:
        nexus.publish_source(net.source_params())
    assert "CLIENT_PRIVATE_KEY" in str(err.value)


# ------------------------------------------------------------------------- registration


def test_register_unregister_and_registrants(net: Any) -> None:
    source = net.publish_source()
    prov = net.register(source)
    assert source.get_registrant_count() == 1
    assert source.get_registrants() == [prov.address]
    assert source.get_registrant_id(prov.address) >= 0
    assert source.get_preferred_environment_of(prov.address) is Environment.CPU
    nexus.unregister(source.address, prov.address, signer=prov.private_key)
    assert source.get_registrants() == []  # zero slot dropped


def test_register_insufficient_lockup_fields(net: Any) -> None:
    source = net.publish_source(min_lockup=5 * 10**16)
    net.stake_provider(amount=10**16)
    with pytest.raises(InsufficientLockupError) as err:
        nexus.register(source.address, net.provider.address, 1, signer=net.provider.private_key)
    e = err.value
    assert (e.account, e.required, e.available) == (net.provider.address, 5 * 10**16, 10**16)


def test_register_not_provider_and_inactive(net: Any) -> None:
    source = net.publish_source()
    net.stake_provider()
    with pytest.raises(NotProviderError) as err:
        nexus.register(source.address, net.provider.address, 1, signer=net.other.private_key)
    assert err.value.account == net.other.address
    source.inactivate(signer=net.client.private_key)
    with pytest.raises(SourceInactiveError) as err2:
        nexus.register(source.address, net.provider.address, 1, signer=net.provider.private_key)
    assert err2.value.source == source.address


# ------------------------------------------------------------------------- tasks


def test_publish_task_and_read_everything(net: Any) -> None:
    source, task = net.full_task()
    assert Task.load(task.address) == task
    snap = task.snapshot()
    assert snap.source == source.address and snap.status is TaskStatus.NEW
    assert snap.payment == 100 == task.get_payment() == snap.params.payment
    assert snap.expiry_time == task.get_expiry_time() == snap.params.expiryTime
    assert snap.delivery_method is DeliveryMethod.MANUAL_CONFIRMATION is task.get_delivery_method()
    assert snap.attempt_count == 0 and snap.winning_provider is None
    assert task.get_source() == source and task.get_status() is TaskStatus.NEW
    assert task.get_params().source == source.address
    assert task.get_metadata() == {"function_name": "predict", "data": {"x": 1}}
    assert task.get_attempters() == [] and task.get_responses() == []
    assert task.get_confirmed_response() is None and task.get_winning_provider() is None
    assert source.get_tasks() == [task] and source.get_task_count() == 1
    assert vault.get_frozen_payment(net.client.address) == 100


def test_publish_task_reverts_typed(net: Any) -> None:
    source = net.publish_source()
    net.fund_client(1000)
    from ogpu.types import TaskParams

    def params(**kw: Any) -> TaskParams:
        base = {
            "source": source.address,
            "config": "ipfs://x",
            "expiryTime": net.now() + 600,
            "payment": 100,
        }
        base.update(kw)
        return TaskParams(**base)

    with pytest.raises(InsufficientBalanceError) as err:
        controller.publish_task(params(payment=5000), signer=net.client.private_key)
    assert (err.value.account, err.value.required, err.value.available) == (
        net.client.address,
        5000,
        1000,
    )
    past = net.now() - 10
    with pytest.raises(TaskExpiredError) as err2:
        controller.publish_task(params(expiryTime=past), signer=net.client.private_key)
    assert err2.value.expiry == past
    # anyone may publish to an ACTIVE source (live-chain.md row 10; was NotSourceOwnerError)
    vault.deposit(net.other.address, 1000, signer=net.other.private_key)
    controller.publish_task(params(), signer=net.other.private_key)
    assert vault.get_frozen_payment(net.other.address) == 100
    with pytest.raises(TxRevertError) as err3:
        controller.publish_task(params(payment=1), signer=net.client.private_key)
    assert err3.value.reason  # e.g. PaymentTooLow
    source.inactivate(signer=net.client.private_key)
    with pytest.raises(SourceInactiveError) as err4:
        controller.publish_task(params(), signer=net.client.private_key)
    assert err4.value.source == source.address


def test_cancel_task_and_owner_mapping(net: Any) -> None:
    _, task = net.full_task()
    with pytest.raises(NotTaskOwnerError) as err:
        task.cancel(signer=net.other.private_key)
    assert (err.value.task, err.value.caller) == (task.address, net.other.address)
    assert task.cancel(signer=net.client.private_key).status == 1
    assert task.get_status() is TaskStatus.CANCELED
    assert vault.get_frozen_payment(net.client.address) == 0


def test_attempt_respond_confirm_flow(net: Any) -> None:
    source, task = net.full_task()
    p1 = net.register(source, net.provider)
    p2 = net.register(source, net.provider2)
    Provider(p1.address).attempt(task.address, 60, signer=p1.private_key)
    nexus.attempt(task.address, p2.address, 70, signer=p2.private_key)
    assert task.get_status() is TaskStatus.ATTEMPTED
    assert task.get_attempt_count() == 2
    assert task.get_attempters() == [p1.address, p2.address]
    assert task.get_attempter_id(p2.address) in (1, 2)
    stamps = task.get_attempt_timestamps()
    assert len(stamps) == 2 and all(s > 0 for s in stamps)
    r1 = net.respond(task, p1, {"answer": 1})
    r2 = net.respond(task, p2, {"answer": 2})
    assert task.get_status() is TaskStatus.RESPONDED
    assert task.get_responses() == [r1, r2]
    assert task.get_response_of(net.other.address) is None
    assert r1.get_task() == task and r1.get_params().provider == p1.address
    assert r1.get_data().startswith("http") and r1.fetch_data() == {"answer": 1}
    assert r1.get_status() is ResponseStatus.SUBMITTED and not r1.is_confirmed()
    assert r1.get_timestamp() > 0
    data_hash = keccak(text=r1.get_data())
    assert task.is_already_submitted(data_hash) in (True, False)  # hash of the stored data
    assert task.is_already_submitted(b"\x00" * 32) is False
    with pytest.raises(NotTaskOwnerError) as err:
        r1.confirm(signer=net.other.private_key)
    assert err.value.task == task.address
    r1.confirm(signer=net.client.private_key)
    assert r1.is_confirmed() and task.get_status() is TaskStatus.FINALIZED
    assert task.get_winning_provider() == p1.address
    assert task.get_confirmed_response() == r1
    with pytest.raises(ResponseAlreadyConfirmedError) as err2:
        controller.confirm_response(r1.address, signer=net.client.private_key)
    assert err2.value.response == r1.address
    with pytest.raises(TaskAlreadyFinalizedError) as err3:
        r2.confirm(signer=net.client.private_key)
    assert err3.value.task == task.address
    with pytest.raises(TaskAlreadyFinalizedError):
        task.cancel(signer=net.client.private_key)
    snaps = task.get_response_snapshots()
    assert [s.address for s in snaps] == [r1.address, r2.address]
    assert snaps[0].confirmed and snaps[0].status is ResponseStatus.CONFIRMED
    assert snaps[1].task == task.address and snaps[1].data == r2.get_data()
    assert r2.snapshot() == snaps[1]
    assert vault.get_total_earnings_of(p1.address) > 0


def test_first_response_task(net: Any) -> None:
    source, task = net.full_task(delivery=DeliveryMethod.FIRST_RESPONSE.value)
    p1 = net.register(source)
    nexus.attempt(task.address, p1.address, 50, signer=p1.private_key)
    response = net.respond(task, p1, {"ok": True})
    assert task.snapshot().status is TaskStatus.FINALIZED
    assert task.get_confirmed_response() == response


def test_expired_task_attempt_and_cancel(net: Any) -> None:
    source, task = net.full_task()
    prov = net.register(source)
    net.increase_time(700)
    nexus.attempt(task.address, prov.address, 50, signer=prov.private_key)
    assert task.get_status() is TaskStatus.EXPIRED
    assert task.get_attempt_count() == 0


# ------------------------------------------------------------------------- load / not found


def test_load_not_found(net: Any) -> None:
    source, task = net.full_task()
    with pytest.raises(SourceNotFoundError) as err:
        Source.load(net.other.address)  # no code
    assert err.value.address == net.other.address
    with pytest.raises(TaskNotFoundError):
        Task.load(source.address)  # code of the wrong kind
    with pytest.raises(ResponseNotFoundError):
        Response.load(task.address)
    with pytest.raises(SourceNotFoundError):
        Source.load(ChainConfig.get_contract_address("VAULT"))
    with pytest.raises(ProviderNotFoundError):
        Provider.load(net.other.address)
    with pytest.raises(MasterNotFoundError):
        Master.load(net.other.address)
    with pytest.raises(TaskNotFoundError):
        Task(net.other.address).get_status()


# ------------------------------------------------------------------------- terminal, vault


def test_pairing_agents_and_provider_views(net: Any) -> None:
    prov, master = net.provider, net.master
    terminal.announce_master(master.address, signer=prov.private_key)
    terminal.announce_provider(prov.address, 10**16, signer=master.private_key)
    assert terminal.is_provider(prov.address) and terminal.is_master(master.address)
    assert terminal.get_master_of(prov.address) == master.address
    assert terminal.get_provider_of(master.address) == prov.address
    p = Provider.load(prov.address)
    m = Master.load(master.address)
    assert p.get_master() == master.address and m.get_provider() == prov.address
    assert p.is_provider() and m.is_master()
    # announceProvider credits the lockup (live-chain.md row 17; was the liquid balance)
    assert p.get_lockup() == 10**16 == vault.get_lockup_of(prov.address)
    # base/live data are source-runtime calls (not SDK surface): the devnet runtime's path
    from ogpu_devnet.provider._submit import set_provider_data

    account = Account.from_key(prov.private_key)
    set_provider_data(ChainConfig.resolve(None), account, "base", "base")
    set_provider_data(ChainConfig.resolve(None), account, "live", "live")
    assert terminal.get_base_data_of(prov.address) == "base" == p.get_base_data()
    assert terminal.get_live_data_of(prov.address) == "live" == p.get_live_data()
    m.set_agent(net.other.address, True, signer=master.private_key)
    assert terminal.is_agent_of(master.address, net.other.address)
    terminal.revoke_agent(net.other.address, signer=master.private_key)
    assert not terminal.is_agent_of(master.address, net.other.address)
    terminal.set_default_agent_disabled(True, signer=master.private_key)
    assert terminal.is_default_agent_disabled(master.address)
    p.set_default_agent_disabled(True, signer=prov.private_key)
    assert p.get_default_agent_disabled()
    snap = p.snapshot()
    assert isinstance(snap, ProviderSnapshot)
    assert (snap.master, snap.base_data, snap.live_data) == (master.address, "base", "live")
    assert snap.is_provider and snap.lockup == 10**16 == p.get_lockup() and snap.balance == 0
    assert snap.is_eligible == p.is_eligible() and snap.is_whitelisted == p.is_whitelisted()
    assert snap.sanction == p.get_sanction() == vault.get_sanction_of(prov.address) == 0
    msnap = m.snapshot()
    assert isinstance(msnap, MasterSnapshot) and msnap.provider == prov.address and msnap.is_master
    source = net.publish_source()
    m.remove_container(prov.address, source.address, signer=master.private_key)
    p.register_to(source.address, Environment.CPU, signer=prov.private_key)
    p.unregister_from(source.address, signer=prov.private_key)
    m.remove_provider(prov.address, signer=master.private_key)
    assert not terminal.is_provider(prov.address)
    assert snapshot_all([p, m, source])[2].client == net.client.address


def test_vault_lifecycle_and_mappings(net: Any) -> None:
    acct = net.other
    key = acct.private_key
    assert vault.get_unbonding_period() > 0 and vault.get_min_lockup_per_source() > 0
    vault.deposit(acct.address, 3 * 10**16, signer=key)
    assert vault.get_balance_of(acct.address) == 3 * 10**16
    with pytest.raises(InsufficientBalanceError) as err:
        vault.withdraw(10**18, signer=key)
    assert (err.value.required, err.value.available) == (10**18, 3 * 10**16)
    with pytest.raises(InsufficientBalanceError):
        vault.lock(10**18, signer=key)
    vault.withdraw(10**16, signer=key)
    vault.lock(2 * 10**16, signer=key)
    assert vault.get_lockup_of(acct.address) == 2 * 10**16
    assert vault.is_eligible(acct.address) is True and vault.is_whitelisted(acct.address) is False
    with pytest.raises(InsufficientLockupError) as err2:
        vault.unbond(10**18, signer=key)
    assert (err2.value.required, err2.value.available) == (10**18, 2 * 10**16)
    vault.unbond(10**16, signer=key)
    assert vault.get_unbonding_of(acct.address) == 10**16
    assert vault.get_unbonding_timestamp(acct.address) > net.now()
    with pytest.raises(UnbondingPeriodNotElapsedError) as err3:
        vault.claim(signer=key)
    period = vault.get_unbonding_period()
    assert err3.value.account == acct.address and 0 < err3.value.remaining_seconds <= period
    vault.cancel_unbonding(signer=key)
    assert vault.get_unbonding_of(acct.address) == 0
    vault.unbond(10**16, signer=key)
    net.increase_time(2 * period + 30)
    vault.claim(signer=key)
    assert vault.get_balance_of(acct.address) == 10**16
    assert (
        vault.get_total_earnings_of(acct.address) == 0
        and vault.get_frozen_payment(acct.address) == 0
    )
    with pytest.raises(MissingSignerError) as err4:
        vault.withdraw(1, signer=None)  # type: ignore[arg-type]
    assert err4.value.role is None
    prov = Provider(acct.address)
    prov.deposit_to_vault(10**16, signer=key)
    prov.withdraw_from_vault(10**16, signer=key)
    prov.unstake(10**16, signer=key)
    prov.cancel_unbonding(signer=key)
    assert prov.get_unbonding() == 0 and prov.get_unbonding_timestamp() >= 0
    assert prov.get_total_earnings() == 0 and prov.get_frozen_payment() == 0
    with pytest.raises(UnbondingPeriodNotElapsedError):
        prov.unstake(10**16, signer=key)
        prov.claim_earnings(signer=key)


def test_zero_address_reads(net: Any) -> None:
    assert terminal.get_master_of(net.other.address) == ZERO_ADDRESS
    assert not Master(net.other.address).is_master()


def test_on_chain_urls_are_read_through_the_chains_gateway(net: Any) -> None:
    """A metadata URL on chain is attacker-controlled: its host is never contacted."""
    import socket

    from ogpu.ipfs import parse_ipfs_url

    cid = parse_ipfs_url(net.metadata_url()).cid
    # A listening socket that never answers: contacting it would hang until the timeout.
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(1)
    try:
        hostile = f"http://127.0.0.1:{trap.getsockname()[1]}/ipfs/{cid}"
        params = net.source_params()
        params = type(params)(**{**params.__dict__, "imageMetadataUrl": hostile})
        receipt = nexus.publish_source(params, signer=net.client.private_key)
        source = Source.load(nexus.extract_source_address(receipt))
        assert source.get_params().imageMetadataUrl == hostile
        assert source.get_metadata()["name"] == "test source"
        trap.settimeout(0.1)
        with pytest.raises(TimeoutError):
            trap.accept()  # nobody connected to the hostile host
    finally:
        trap.close()
