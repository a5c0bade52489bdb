"""More ogpu.protocol integration tests against the devnet: the remaining revert mappings with
their fields, role-class writes, bounded pagination, load() on empty addresses, and the round
trips of response snapshots and mixed many-instance snapshots."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak
from ogpu.chain import get_nonce_info
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
    MasterNotFoundError,
    MasterSnapshot,
    NotEligibleError,
    NotMasterError,
    NotSourceOwnerError,
    NotTaskOwnerError,
    ProviderNotFoundError,
    ProviderSnapshot,
    ResponseNotFoundError,
    ResponseSnapshot,
    SourceNotFoundError,
    SourceSnapshot,
    TaskNotFoundError,
    TaskParams,
    TaskSnapshot,
)

LOCKUP = 10**16


def _pair(net: Any) -> tuple[Any, Any]:
    prov, master = net.provider, net.master
    Provider(prov.address).announce_master(master.address, signer=prov.private_key)
    Master(master.address).announce_provider(prov.address, LOCKUP, signer=master.private_key)
    return prov, master


def test_not_master_mapping_fields(net: Any) -> None:
    prov, master = _pair(net)
    source = net.publish_source()  # announce_provider already credited LOCKUP to the lockup
    with pytest.raises(NotMasterError) as err:
        nexus.register(source.address, prov.address, 1, signer=net.other.private_key)
    assert err.value.account == net.other.address
    with pytest.raises(NotMasterError) as err2:
        terminal.remove_provider(prov.address, signer=net.other.private_key)
    assert err2.value.account == net.other.address
    with pytest.raises(NotMasterError) as err3:
        Master(net.other.address).remove_container(
            prov.address, source.address, signer=net.other.private_key
        )
    assert err3.value.account == net.other.address
    # the master itself may act for its provider
    nexus.register(source.address, prov.address, 1, signer=master.private_key)
    assert source.get_registrants() == [prov.address]


def test_not_eligible_mapping_fields(net: Any) -> None:
    source, task = net.full_task()
    prov = net.register(source)
    vault.unbond(LOCKUP, signer=prov.private_key)  # lockup below the minimum: not eligible
    assert not vault.is_eligible(prov.address)
    with pytest.raises(NotEligibleError) as err:
        nexus.attempt(task.address, prov.address, 50, signer=prov.private_key)
    assert err.value.account == prov.address
    assert task.get_attempt_count() == 0


def test_owner_mappings_carry_source_task_and_caller(net: Any) -> None:
    source, task = net.full_task()
    vault.deposit(net.other.address, 1000, signer=net.other.private_key)
    params = TaskParams(
        source=source.address, config="ipfs://x", expiryTime=net.now() + 600, payment=100
    )
    with pytest.raises(NotSourceOwnerError) as err:
        nexus.inactivate_source(source.address, signer=net.other.private_key)
    assert (err.value.source, err.value.caller) == (source.address, net.other.address)
    # anyone may publish to an ACTIVE source (live-chain.md row 10; was NotSourceOwnerError):
    # the publisher's balance pays and the publisher, not the source's client, owns the task
    receipt = controller.publish_task(params, signer=net.other.private_key)
    other_task = controller.extract_task_address(receipt)
    with pytest.raises(NotTaskOwnerError):
        controller.cancel_task(other_task, signer=net.client.private_key)
    controller.cancel_task(other_task, signer=net.other.private_key)
    prov = net.register(source)
    nexus.attempt(task.address, prov.address, 50, signer=prov.private_key)
    response = net.respond(task, prov, {"r": 1})
    with pytest.raises(NotTaskOwnerError) as err2:
        controller.confirm_response(response.address, signer=net.other.private_key)
    assert (err2.value.task, err2.value.caller) == (task.address, net.other.address)


def test_role_classes_writes_and_views(net: Any) -> None:
    prov, master = _pair(net)
    p, m = Provider.load(prov.address), Master.load(master.address)
    assert repr(p) == f"Provider('{prov.address}')" and p == Provider(prov.address.lower())
    # announceProvider credits the provider's lockup (live-chain.md row 17; was its balance)
    assert m.get_balance() == 0 and p.get_balance() == 0 and p.get_lockup() == LOCKUP
    m.deposit_to_vault(3 * LOCKUP, signer=master.private_key)
    m.stake(2 * LOCKUP, signer=master.private_key)
    m.withdraw_from_vault(LOCKUP, signer=master.private_key)
    m.unstake(LOCKUP, signer=master.private_key)
    assert (m.get_balance(), m.get_lockup(), m.get_unbonding()) == (0, LOCKUP, LOCKUP)
    m.cancel_unbonding(signer=master.private_key)
    assert (m.get_lockup(), m.get_unbonding()) == (2 * LOCKUP, 0)
    m.unstake(LOCKUP, signer=master.private_key)
    net.increase_time(2 * vault.get_unbonding_period() + 30)
    m.claim_earnings(signer=master.private_key)
    assert m.get_balance() == LOCKUP and m.get_total_earnings() == 0
    assert m.is_eligible() is vault.is_eligible(master.address)
    assert m.is_whitelisted() is False and m.get_frozen_payment() == 0
    snap = m.snapshot()
    assert isinstance(snap, MasterSnapshot)
    assert (snap.provider, snap.is_master, snap.balance, snap.lockup) == (
        prov.address,
        True,
        LOCKUP,
        LOCKUP,
    )


def test_bounded_pagination_reads(net: Any) -> None:
    source, task = net.full_task()
    p1 = net.register(source, net.provider)
    p2 = net.register(source, net.provider2)
    assert source.get_registrants(0, 1) == [p1.address]
    assert source.get_registrants(1, 2) == [p2.address]
    assert source.get_registrants(1) == [p2.address]
    assert source.get_registrants(2, 2) == []
    nexus.attempt(task.address, p1.address, 50, signer=p1.private_key)
    nexus.attempt(task.address, p2.address, 60, signer=p2.private_key)
    assert task.get_attempters(1, 2) == [p2.address]
    assert task.get_attempters(0, 1) == [p1.address]
    stamps = task.get_attempt_timestamps()
    assert task.get_attempt_timestamps(1, 2) == stamps[1:]
    r1 = net.respond(task, p1, {"answer": 1})
    r2 = net.respond(task, p2, {"answer": 2})
    assert task.get_responses(1, 2) == [r2] and task.get_responses(0, 1) == [r1]
    assert [s.address for s in task.get_response_snapshots(1, 2)] == [r2.address]
    assert source.get_tasks(0, 1) == [task]
    assert [s.address for s in source.get_task_snapshots(0, 1)] == [task.address]
    # the task records the hash of each submitted payload URL
    assert task.is_already_submitted(keccak(text=r1.get_data())) is True
    assert task.is_already_submitted("0x" + keccak(text=r2.get_data()).hex()) is True
    assert task.is_already_submitted(keccak(text=r1.get_data() + "x")) is False


@pytest.mark.parametrize(
    ("cls", "error"),
    [
        (Source, SourceNotFoundError),
        (Task, TaskNotFoundError),
        (Response, ResponseNotFoundError),
        (Provider, ProviderNotFoundError),
        (Master, MasterNotFoundError),
    ],
)
def test_load_on_an_address_without_code(net: Any, cls: Any, error: Any) -> None:
    with pytest.raises(error) as err:
        cls.load(net.other.address.lower())
    assert err.value.address == net.other.address


def test_load_on_singletons_is_wrong_kind(net: Any) -> None:
    from ogpu.chain import ChainConfig

    for name in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT"):
        address = ChainConfig.get_contract_address(name)
        for cls, error in (
            (Source, SourceNotFoundError),
            (Task, TaskNotFoundError),
            (Response, ResponseNotFoundError),
        ):
            with pytest.raises(error) as err:
                cls.load(address)
            assert err.value.address == address


def test_response_and_mixed_snapshot_round_trips(net: Any, counting_proxy: Any) -> None:
    source, task = net.full_task()
    p1 = net.register(source, net.provider)
    p2 = net.register(source, net.provider2)
    for prov in (p1, p2):
        nexus.attempt(task.address, prov.address, 50, signer=prov.private_key)
    r1 = net.respond(task, p1, {"answer": 1})
    r2 = net.respond(task, p2, {"answer": 2})

    counting_proxy.reset()
    snap = r1.snapshot()
    assert counting_proxy.count == 1
    assert isinstance(snap, ResponseSnapshot) and snap.task == task.address

    for cls, address in ((Source, source.address), (Response, r1.address)):
        counting_proxy.reset()
        cls.load(address)
        assert counting_proxy.count == 1, cls.__name__

    counting_proxy.reset()
    snaps = task.get_response_snapshots()
    assert [s.address for s in snaps] == [r1.address, r2.address]
    assert counting_proxy.count <= 3

    counting_proxy.reset()
    assert [s.address for s in task.get_response_snapshots(0, 2)] == [r1.address, r2.address]
    assert counting_proxy.count == 2  # page (+ its block number), then the snapshots

    counting_proxy.reset()
    mixed = snapshot_all(
        [source, task, r1, r2, Provider(p1.address), Master(net.master.address), task]
    )
    assert counting_proxy.count == 1
    assert [type(s) for s in mixed] == [
        SourceSnapshot,
        TaskSnapshot,
        ResponseSnapshot,
        ResponseSnapshot,
        ProviderSnapshot,
        MasterSnapshot,
        TaskSnapshot,
    ]
    assert mixed[1] == mixed[6] and mixed[3].address == r2.address
    assert snapshot_all([]) == []

    counting_proxy.reset()
    get_nonce_info(net.other.address)
    assert counting_proxy.count == 1


def test_source_set_status_is_reserved_to_the_protocol(net: Any) -> None:
    """``Source.setStatus`` is a privileged entry point (the devnet reserves it to Nexus, as
    protocol.md describes): the SDK surfaces the revert as a typed TxRevertError with its
    reason, and nothing changes."""
    from ogpu.types import SourceStatus, TxRevertError

    source = net.publish_source()
    with pytest.raises(TxRevertError) as err:
        source.set_status(SourceStatus.INACTIVE, signer=net.client.private_key)
    assert err.value.reason == "Unauthorized"
    assert source.get_status() is SourceStatus.ACTIVE
