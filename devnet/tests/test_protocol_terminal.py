"""Pairing, agents and provider data on the devnet's Terminal, and Manager roles (plain web3.py).

Covers protocol.md "Terminal": announceMaster/announceProvider in both orders, removeProvider,
setAgent/isAgentOf (and agents signing for clients and masters), the default agent, base and
live data, removeContainer; and the AccessControl-style Manager.
"""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

pytestmark = pytest.mark.usefixtures("backend_isolated")

ZERO = "0x0000000000000000000000000000000000000000"
THE_ORDER = "0x306Dc3fF30254675B209D916475094401aCC4a1E"
PROVIDER_ROLE = Web3.keccak(text="PROVIDER")
CONTROLLER_ROLE = Web3.keccak(text="CONTROLLER")
JUDGE_ROLE = Web3.keccak(text="JUDGE")
ADMIN_ROLE = b"\x00" * 32
Protocol = Any  # conftest.Protocol
World = Any  # conftest.World


@pytest.fixture
def pair(backend_accounts: list[Any]) -> tuple[Any, Any]:
    """(provider, master): accounts not paired by proto_world."""
    return backend_accounts[8], backend_accounts[9]


def _assert_paired(proto: Protocol, provider: str, master: str) -> None:
    t = proto.terminal.functions
    assert t.masterOf(provider).call() == master
    assert t.getMasterOf(provider).call() == master
    assert t.providerOf(master).call() == provider
    assert t.isProvider(provider).call() is True
    assert t.isMaster(master).call() is True
    assert t.getIsMaster(master).call() is True
    assert proto.manager.functions.hasRole(PROVIDER_ROLE, provider).call() is True


@pytest.mark.usefixtures("proto_world")
def test_pairing_provider_first(proto: Protocol, pair: tuple[Any, Any]) -> None:
    provider, master = pair
    t = proto.terminal.functions
    receipt = proto.send(t.announceMaster(master.address), provider)
    assert proto.events(receipt, proto.terminal, "MasterAnnounced") == [
        {"provider": provider.address, "master": master.address}
    ]
    assert t.masterOf(provider.address).call() == ZERO  # one side only
    assert t.isProvider(provider.address).call() is False
    receipt = proto.send(t.announceProvider(provider.address, 0), master)
    assert proto.events(receipt, proto.terminal, "ProviderAnnounced") == [
        {"provider": provider.address, "master": master.address}
    ]
    _assert_paired(proto, provider.address, master.address)


@pytest.mark.usefixtures("proto_world")
def test_pairing_master_first_locks_value(proto: Protocol, pair: tuple[Any, Any]) -> None:
    """announceProvider credits msg.value to the provider's LOCKUP (published SDK docs,
    live-chain.md row 17; was: its liquid balance)."""
    provider, master = pair
    t = proto.terminal.functions
    amount = 10**17
    proto.expect_revert(t.announceProvider(provider.address, amount), master, "InvalidAmount")
    receipt = proto.send(t.announceProvider(provider.address, amount), master, value=amount)
    assert proto.events(receipt, proto.vault, "Deposited") == [
        {"account": provider.address, "amount": amount}
    ]
    assert proto.vault.functions.lockupOf(provider.address).call() == amount
    assert proto.vault.functions.balanceOf(provider.address).call() == 0
    assert t.isMaster(master.address).call() is False
    proto.send(t.announceMaster(master.address), provider)
    _assert_paired(proto, provider.address, master.address)


def test_pairing_conflicts(proto: Protocol, proto_world: World, pair: tuple[Any, Any]) -> None:
    w = proto_world
    provider, master = pair
    t = proto.terminal.functions
    # proto_world paired w.provider with w.master
    proto.expect_revert(t.announceMaster(master.address), w.provider, "AlreadyPaired")
    proto.expect_revert(t.announceProvider(w.provider.address, 0), master, "AlreadyPaired")
    proto.expect_revert(t.announceProvider(provider.address, 0), w.master, "AlreadyPaired")
    proto.expect_revert(t.announceMaster(provider.address), provider, "InvalidMaster")
    proto.expect_revert(t.announceProvider(master.address, 0), master, "InvalidProvider")


def test_remove_provider(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    t = proto.terminal.functions
    remove = t.removeProvider(w.provider.address)
    proto.expect_revert(remove, w.outsider, "NotMaster")
    proto.expect_revert(remove, w.provider, "NotMaster")
    receipt = proto.send(remove, w.master)
    assert proto.events(receipt, proto.terminal, "ProviderRemoved") == [
        {"provider": w.provider.address}
    ]
    assert t.masterOf(w.provider.address).call() == ZERO
    assert t.providerOf(w.master.address).call() == ZERO
    assert t.isProvider(w.provider.address).call() is False
    assert t.isMaster(w.master.address).call() is False
    assert proto.manager.functions.hasRole(PROVIDER_ROLE, w.provider.address).call() is False
    # the former master no longer acts for the provider
    fn = proto.nexus.functions.unregister(w.src_first, w.provider.address)
    proto.expect_revert(fn, w.master, "NotProvider")
    proto.expect_revert(remove, w.master, "NotMaster")


def test_agents(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    t = proto.terminal.functions
    assert t.isAgentOf(w.client.address, w.agent.address).call() is True
    assert t.getIsAgentOf(w.master.address, w.agent.address).call() is True
    assert t.getIsAgentOf(w.client2.address, w.agent.address).call() is False
    receipt = proto.send(t.setAgent(w.agent.address, False), w.client)
    assert proto.events(receipt, proto.terminal, "AgentSet") == [
        {"account": w.client.address, "agent": w.agent.address, "value": False}
    ]
    assert t.isAgentOf(w.client.address, w.agent.address).call() is False
    params = proto.source_params(w.client.address)
    fn = proto.nexus.functions.publishSource(params)
    proto.expect_revert(fn, w.agent, "NotOwner")
    proto.expect_revert(t.setAgent(ZERO, True), w.client, "InvalidAgent")


def test_default_agent(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    t = proto.terminal.functions
    assert t.getIsAgentOf(w.master.address, THE_ORDER).call() is True
    assert t.isAgentOf(w.master.address, THE_ORDER).call() is False  # explicit agents only
    assert t.defaultAgentDisabled(w.master.address).call() is False
    receipt = proto.send(t.setDefaultAgentDisabled(True), w.master)
    assert proto.events(receipt, proto.terminal, "DefaultAgentDisabled") == [
        {"master": w.master.address, "value": True}
    ]
    assert t.defaultAgentDisabled(w.master.address).call() is True
    assert t.getIsAgentOf(w.master.address, THE_ORDER).call() is False


def test_base_and_live_data(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    t = proto.terminal.functions
    receipt = proto.send(t.setBaseData('{"gpu": "H100"}'), w.provider)
    assert proto.events(receipt, proto.terminal, "BaseDataUpdated") == [
        {"provider": w.provider.address}
    ]
    receipt = proto.send(t.setLiveData('{"load": 0.5}'), w.provider)
    assert proto.events(receipt, proto.terminal, "LiveDataUpdated") == [
        {"provider": w.provider.address}
    ]
    assert t.baseDataOf(w.provider.address).call() == '{"gpu": "H100"}'
    assert t.liveDataOf(w.provider.address).call() == '{"load": 0.5}'
    assert t.baseDataOf(w.provider2.address).call() == ""


def test_remove_container(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    fn = proto.terminal.functions.removeContainer(w.provider.address, w.src_first)
    proto.expect_revert(fn, w.outsider, "NotMaster")
    for signer in (w.master, w.agent):
        receipt = proto.send(fn, signer)
        assert proto.events(receipt, proto.terminal, "RemoveContainer") == [
            {"provider": w.provider.address, "source": w.src_first}
        ]
    fn = proto.terminal.functions.removeContainer(w.provider2.address, w.src_first)
    proto.expect_revert(fn, w.master, "NotProvider")


def test_terminal_views_and_owner(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    t = proto.terminal.functions
    assert t.PROVIDER().call() == PROVIDER_ROLE
    assert t.manager().call() == proto.manager.address
    assert t.vault().call() == proto.vault.address
    assert t.owner().call() == w.admin.address
    proto.expect_revert(t.setVault(w.outsider.address), w.outsider, "NotOwner")
    proto.expect_revert(t.setManager(w.outsider.address), w.outsider, "NotOwner")
    proto.expect_revert(t.transferOwnership(w.outsider.address), w.outsider, "NotOwner")
    receipt = proto.send(t.transferOwnership(w.outsider.address), w.admin)
    assert proto.events(receipt, proto.terminal, "OwnershipTransferred") == [
        {"previousOwner": w.admin.address, "newOwner": w.outsider.address}
    ]
    proto.send(t.renounceOwnership(), w.outsider)
    assert t.owner().call() == ZERO


def test_manager_roles(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    m = proto.manager.functions
    assert m.DEFAULT_ADMIN_ROLE().call() == ADMIN_ROLE
    assert m.CONTROLLER().call() == CONTROLLER_ROLE
    assert m.PROVIDER().call() == PROVIDER_ROLE
    assert m.JUDGE().call() == JUDGE_ROLE
    assert proto.nexus.functions.CONTROLLER().call() == CONTROLLER_ROLE
    assert proto.nexus.functions.PROVIDER().call() == PROVIDER_ROLE
    assert m.hasRole(ADMIN_ROLE, w.admin.address).call() is True
    assert m.hasRole(CONTROLLER_ROLE, proto.nexus.address).call() is True
    assert m.hasRole(CONTROLLER_ROLE, proto.controller.address).call() is True
    assert m.hasRole(CONTROLLER_ROLE, w.admin.address).call() is False
    assert proto.nexus.functions.checkController(proto.controller.address).call() is True
    assert proto.nexus.functions.checkController(w.outsider.address).call() is False
    assert m.getRoleAdmin(JUDGE_ROLE).call() == ADMIN_ROLE
    assert m.supportsInterface(bytes.fromhex("7965db0b")).call() is True
    assert m.supportsInterface(bytes.fromhex("01ffc9a7")).call() is True
    assert m.supportsInterface(bytes.fromhex("ffffffff")).call() is False

    proto.expect_revert(m.grantRole(JUDGE_ROLE, w.outsider.address), w.outsider, "Unauthorized")
    receipt = proto.send(m.grantRole(JUDGE_ROLE, w.outsider.address), w.admin)
    assert proto.events(receipt, proto.manager, "RoleGranted") == [
        {"role": JUDGE_ROLE, "account": w.outsider.address, "sender": w.admin.address}
    ]
    # a JUDGE may sanction
    proto.send(proto.vault.functions.sanction(w.provider2.address, 1), w.outsider)
    fn = m.renounceRole(JUDGE_ROLE, w.admin.address)
    proto.expect_revert(fn, w.outsider, "BadConfirmation")
    proto.send(m.renounceRole(JUDGE_ROLE, w.outsider.address), w.outsider)
    assert m.hasRole(JUDGE_ROLE, w.outsider.address).call() is False
    proto.expect_revert(
        m.revokeRole(CONTROLLER_ROLE, proto.nexus.address), w.outsider, "Unauthorized"
    )
    receipt = proto.send(m.revokeRole(CONTROLLER_ROLE, proto.nexus.address), w.admin)
    assert proto.events(receipt, proto.manager, "RoleRevoked") == [
        {"role": CONTROLLER_ROLE, "account": proto.nexus.address, "sender": w.admin.address}
    ]
