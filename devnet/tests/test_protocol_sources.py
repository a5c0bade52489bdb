"""Sources and registration on the devnet's stub contracts, with plain web3.py over HTTP.

Covers protocol.md "Source": publishSource, updateSource, inactivateSource, register and
unregister, with their revert reasons and events.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3.exceptions import ContractPanicError

pytestmark = pytest.mark.usefixtures("backend_isolated")

# enums of network.md (conftest is not importable under --import-mode=importlib)
ACTIVE, INACTIVE = 0, 1
MANUAL_CONFIRMATION, FIRST_RESPONSE = 0, 1
CPU, NVIDIA, AMD = 1, 2, 4
ZERO = "0x0000000000000000000000000000000000000000"

Protocol = Any  # conftest.Protocol
World = Any  # conftest.World


def test_publish_source_deploys_source_with_params(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    params = proto.source_params(w.client2.address, envs=CPU | AMD, delivery=MANUAL_CONFIRMATION)
    count_before = proto.nexus.functions.getSourceCount().call()
    receipt = proto.send(proto.nexus.functions.publishSource(params), w.client2)
    (event,) = proto.events(receipt, proto.nexus, "SourcePublished")
    source = proto.source(event["source"])

    stored = source.functions.getSourceParams().call()
    block_time = proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert tuple(stored) == (*params[:-1], block_time)  # lastUpdateTime is set by Nexus
    assert tuple(source.functions.sourceParams().call()) == tuple(stored)
    assert source.functions.getClient().call() == w.client2.address
    assert source.functions.getStatus().call() == ACTIVE
    assert source.functions.nexus().call() == proto.nexus.address
    assert source.functions.getTaskCount().call() == 0
    assert source.functions.getRegistrantCount().call() == 0

    n = proto.nexus.functions
    assert n.getSourceCount().call() == count_before + 1
    assert n.getSourceId(source.address).call() == count_before
    assert n.sources(count_before).call() == source.address
    assert n.getSources(count_before, count_before).call() == [source.address]
    assert n.sourcesOf(w.client2.address, 0).call() == source.address
    assert n.getActiveSourceCount(w.client2.address).call() == 1
    assert n.activeSourceCountOf(w.client2.address).call() == 1
    clients = [n.clients(i).call() for i in range(2)]
    assert clients == [w.client.address, w.client2.address]


def test_publish_source_by_agent_and_not_for_others(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    params = proto.source_params(w.client.address)
    publish = proto.nexus.functions.publishSource(params)
    proto.expect_revert(publish, w.outsider, "NotOwner")
    receipt = proto.send(publish, w.agent)  # agent set by client in proto_world
    (event,) = proto.events(receipt, proto.nexus, "SourcePublished")
    assert proto.source(event["source"]).functions.getClient().call() == w.client.address


@pytest.mark.parametrize("envs", [0, 8, 255])
def test_publish_source_rejects_bad_environment(
    proto: Protocol, proto_world: World, envs: int
) -> None:
    params = proto.source_params(proto_world.client.address, envs=envs)
    fn = proto.nexus.functions.publishSource(params)
    proto.expect_revert(fn, proto_world.client, "InvalidEnvironment")


def test_publish_source_rejects_bad_delivery_method(proto: Protocol, proto_world: World) -> None:
    params = proto.source_params(proto_world.client.address, delivery=2)
    fn = proto.nexus.functions.publishSource(params)
    proto.expect_revert(fn, proto_world.client, "InvalidDeliveryMethod")


def test_update_source(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    new = proto.source_params(
        w.client.address, envs=AMD, min_payment=5, url="https://ipfs.example/ipfs/QmNew"
    )
    update = proto.nexus.functions.updateSource(w.src_first, new)
    proto.expect_revert(update, w.outsider, "NotOwner")
    proto.expect_revert(update, w.provider, "NotOwner")
    receipt = proto.send(update, w.client)
    (event,) = proto.events(receipt, proto.nexus, "SourceUpdated")
    block_time = proto.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    assert event["source"] == w.src_first
    assert tuple(event["sourceParams"].values()) == (*new[:-1], block_time)
    assert tuple(proto.source(w.src_first).functions.getSourceParams().call()) == tuple(
        event["sourceParams"].values()
    )
    # the agent may update too; the client field cannot change
    proto.send(proto.nexus.functions.updateSource(w.src_first, new), w.agent)
    other = proto.source_params(w.client2.address)
    fn = proto.nexus.functions.updateSource(w.src_first, other)
    proto.expect_revert(fn, w.client, "ClientMismatch")


def test_inactivate_source_one_way(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    n = proto.nexus.functions
    active_before = n.getActiveSourceCount(w.client.address).call()
    inactivate = n.inactivateSource(w.src_manual)
    proto.expect_revert(inactivate, w.outsider, "NotOwner")
    receipt = proto.send(inactivate, w.client)
    assert proto.events(receipt, proto.nexus, "SourceStatusChanged") == [
        {"source": w.src_manual, "status": INACTIVE}
    ]
    assert proto.source(w.src_manual).functions.getStatus().call() == INACTIVE
    assert n.getActiveSourceCount(w.client.address).call() == active_before - 1
    proto.expect_revert(inactivate, w.client, "SourceInactive")
    # an inactive source takes no registrations, tasks or updates
    proto.expect_revert(
        n.register(w.src_manual, w.outsider.address, CPU), w.outsider, "SourceInactive"
    )
    params = (w.src_manual, "cfg", proto.now() + 100, 10**15)
    fn = proto.controller.functions.publishTask(params)
    proto.expect_revert(fn, w.client, "SourceInactive")
    fn = n.updateSource(w.src_manual, proto.source_params(w.client.address))
    proto.expect_revert(fn, w.client, "SourceInactive")


def test_register_by_provider_records_registrant(
    proto: Protocol, proto_world: World, backend_accounts: list[Any]
) -> None:
    w = proto_world
    newcomer = backend_accounts[8]
    v, n = proto.vault.functions, proto.nexus.functions
    proto.send(v.deposit(newcomer.address), newcomer, value=10**15)
    proto.send(v.lock(10**15), newcomer)
    receipt = proto.send(n.register(w.src_first, newcomer.address, NVIDIA), newcomer)
    assert proto.events(receipt, proto.nexus, "Registered") == [
        {
            "provider": newcomer.address,
            "registrantId": 2,
            "source": w.src_first,
            "preferredEnvironment": NVIDIA,
        }
    ]
    s = proto.source(w.src_first).functions
    assert s.getRegistrantCount().call() == 3
    assert s.getRegistrantId(newcomer.address).call() == 2
    assert s.registrantId(newcomer.address).call() == 2
    assert s.registrants(2).call() == newcomer.address
    assert s.preferredEnvironmentOf(newcomer.address).call() == NVIDIA
    assert s.getRegistrants(0, 2).call() == [
        w.provider.address,
        w.provider2.address,
        newcomer.address,
    ]
    proto.expect_revert(
        n.register(w.src_first, newcomer.address, CPU), newcomer, "AlreadyRegistered"
    )


def test_register_checks_environment_and_lockup(
    proto: Protocol, proto_world: World, backend_accounts: list[Any]
) -> None:
    w = proto_world
    newcomer = backend_accounts[8]
    v, n = proto.vault.functions, proto.nexus.functions
    min_lockup = v.MIN_LOCKUP_PER_SOURCE().call()
    register = n.register(w.src_first, newcomer.address, CPU)
    proto.expect_revert(register, newcomer, "InsufficientLockup")
    proto.send(v.deposit(newcomer.address), newcomer, value=min_lockup * 3)
    proto.send(v.lock(min_lockup - 1), newcomer)
    proto.expect_revert(register, newcomer, "InsufficientLockup")
    proto.send(v.lock(1), newcomer)
    for env in (AMD, CPU | NVIDIA, 0, 8):  # not offered by the source / not a single bit
        fn = n.register(w.src_first, newcomer.address, env)
        proto.expect_revert(fn, newcomer, "InvalidEnvironment")
    # a source's own minAvailableLockup counts when above the Vault minimum
    demanding = proto.publish_source(w.client, min_lockup=min_lockup * 2)
    fn = n.register(demanding, newcomer.address, CPU)
    proto.expect_revert(fn, newcomer, "InsufficientLockup")
    proto.send(v.lock(min_lockup), newcomer)
    proto.send(fn, newcomer)
    proto.send(register, newcomer)
    proto.expect_revert(
        n.register(newcomer.address, newcomer.address, CPU), newcomer, "UnknownSource"
    )


def test_register_senders_master_agent_and_outsiders(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    n = proto.nexus.functions
    source = proto.publish_source(w.client)
    # provider is paired with master; agent is master's agent
    proto.expect_revert(n.register(source, w.provider.address, CPU), w.outsider, "NotMaster")
    proto.expect_revert(n.register(source, w.provider.address, CPU), w.client2, "NotMaster")
    # provider2 has no master: only itself may act for it
    proto.expect_revert(n.register(source, w.provider2.address, CPU), w.outsider, "NotProvider")
    proto.expect_revert(n.register(source, w.provider2.address, CPU), w.master, "NotProvider")
    proto.send(n.register(source, w.provider.address, CPU), w.master)
    proto.send(n.unregister(source, w.provider.address), w.agent)
    proto.send(n.register(source, w.provider.address, CPU), w.agent)
    assert proto.source(source).functions.getRegistrants(0, 1).call() == [
        ZERO,
        w.provider.address,
    ]


def test_unregister_leaves_zero_slot(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    n = proto.nexus.functions
    s = proto.source(w.src_first).functions
    unregister = n.unregister(w.src_first, w.provider.address)
    proto.expect_revert(unregister, w.outsider, "NotMaster")
    proto.send(unregister, w.provider)
    assert s.registrants(0).call() == ZERO
    assert s.getRegistrants(0, 1).call() == [ZERO, w.provider2.address]
    assert s.getRegistrantCount().call() == 2
    proto.expect_revert(unregister, w.provider, "NotRegistered")
    # registering again appends a fresh slot
    proto.send(n.register(w.src_first, w.provider.address, CPU), w.provider)
    assert s.getRegistrantId(w.provider.address).call() == 2
    assert s.getRegistrants(0, 2).call() == [ZERO, w.provider2.address, w.provider.address]


@pytest.mark.pyevm_only(
    reason="Hardhat answers a failing eth_call with code -32603 and the revert data nested "
    "(conformance row 22), so web3.py raises ContractLogicError, not ContractPanicError"
)
def test_pagination_is_inclusive_and_never_clamps(proto: Protocol, proto_world: World) -> None:
    """Live semantics (devnet/docs/live-chain.md rows 1-7): both bounds inclusive, no clamping,
    Panic(0x32) past the end, Source getters absolute (lower > 0 panics)."""
    w = proto_world
    n = proto.nexus.functions
    total = n.getSourceCount().call()
    assert len(n.getSources(0, total - 1).call()) == total
    assert n.getSources(total - 1, total - 1).call() == [n.sources(total - 1).call()]
    for lo, hi in ((0, total), (0, 2**256 - 1), (total, total + 5)):
        with pytest.raises(ContractPanicError, match="0x32"):
            n.getSources(lo, hi).call()
    with pytest.raises(ContractPanicError, match="0x11"):
        n.getSources(5, 2).call()
    s = proto.source(w.src_first).functions
    assert s.getRegistrants(0, 1).call() == [w.provider.address, w.provider2.address]
    with pytest.raises(ContractPanicError, match="0x32"):
        s.getRegistrants(1, 1).call()  # absolute indexing: any lower > 0
    with pytest.raises(ContractPanicError, match="0x32"):
        s.getTasks(0, 0).call()  # no tasks


def test_publish_source_from_first_response_copies_delivery(
    proto: Protocol, proto_world: World
) -> None:
    w = proto_world
    first = proto.source(w.src_first).functions.getSourceParams().call()
    manual = proto.source(w.src_manual).functions.getSourceParams().call()
    assert first[8] == FIRST_RESPONSE
    assert manual[8] == MANUAL_CONFIRMATION
