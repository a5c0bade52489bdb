"""Privileged entry points of the devnet's stub contracts revert for outsiders (plain web3.py).

Only the protocol's own contracts (holders of the CONTROLLER role in Manager, i.e. Nexus and
Controller) may move task/response/source state or escrow; owner-only setters revert with
NotOwner; admin-only Vault functions need DEFAULT_ADMIN_ROLE. Each case is an eth_call from an
outsider, from a client, and from the deployer (owner/admin, but not a CONTROLLER).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("backend_isolated")

Protocol = Any  # conftest.Protocol
World = Any  # conftest.World


@pytest.fixture(scope="module")
def entities(proto: Protocol, proto_world: World) -> dict[str, str]:
    """A task (MANUAL_CONFIRMATION, responded) and its response, in proto_world's snapshot."""
    w = proto_world
    task = proto.publish_task(w.src_manual, w.client)
    proto.attempt(task, w.provider)
    response, _ = proto.submit(task, w.provider, "ipfs://access", 1)
    return {"source": w.src_manual, "task": task, "response": response}


ResponseParams = tuple[str, str, str, int]

# (label, builder(proto, world, entities) -> contract function)
PRIVILEGED: list[tuple[str, Callable[[Any, Any, dict[str, str]], Any]]] = [
    ("Task.setStatus", lambda p, w, e: p.task(e["task"]).functions.setStatus(5)),
    ("Task.attempt", lambda p, w, e: p.task(e["task"]).functions.attempt(w.outsider.address)),
    (
        "Task.submitResponse",
        lambda p, w, e: p.task(e["task"]).functions.submitResponse(
            e["response"], w.outsider.address
        ),
    ),
    ("Source.publishTask", lambda p, w, e: p.source(e["source"]).functions.publishTask(e["task"])),
    (
        "Source.register",
        lambda p, w, e: p.source(e["source"]).functions.register(w.outsider.address, 1),
    ),
    (
        "Source.unregister",
        lambda p, w, e: p.source(e["source"]).functions.unregister(w.provider.address),
    ),
    ("Source.setStatus", lambda p, w, e: p.source(e["source"]).functions.setStatus(1)),
    (
        "Source.setSourceParams",
        lambda p, w, e: p.source(e["source"]).functions.setSourceParams(
            p.source_params(w.outsider.address)
        ),
    ),
    ("Response.confirm", lambda p, w, e: p.response(e["response"]).functions.confirm()),
    ("Response.setStatus", lambda p, w, e: p.response(e["response"]).functions.setStatus(1)),
    (
        "Nexus.emitTaskPublished",
        lambda p, w, e: p.nexus.functions.emitTaskPublished(w.outsider.address, e["source"]),
    ),
    ("Nexus.setTaskStatus", lambda p, w, e: p.nexus.functions.setTaskStatus(e["task"], 5)),
    (
        "Nexus.setResponseStatus",
        lambda p, w, e: p.nexus.functions.setResponseStatus(e["response"], 1),
    ),
    ("Nexus.setSourceStatus", lambda p, w, e: p.nexus.functions.setSourceStatus(e["source"], 1)),
    (
        "Vault.freezePayment",
        lambda p, w, e: p.vault.functions.freezePayment(w.client.address, w.outsider.address, 1),
    ),
    (
        "Vault.processPayment",
        lambda p, w, e: p.vault.functions.processPayment(
            w.client.address, w.outsider.address, e["task"], 1
        ),
    ),
    (
        "Vault.releasePayment",
        lambda p, w, e: p.vault.functions.releasePayment(w.client.address, e["task"]),
    ),
]

ADMIN_ONLY: list[tuple[str, Callable[[Any, Any, dict[str, str]], Any]]] = [
    (
        "Vault.forceReleasePayment",
        lambda p, w, e: p.vault.functions.forceReleasePayment(w.client.address, e["task"]),
    ),
    ("Vault.sanction", lambda p, w, e: p.vault.functions.sanction(w.provider.address, 1)),
    ("Vault.waive", lambda p, w, e: p.vault.functions.waive(w.provider.address, 0)),
    ("Vault.emergencyExit", lambda p, w, e: p.vault.functions.emergencyExit(w.client.address)),
    (
        "Vault.withdrawSanctionOf",
        lambda p, w, e: p.vault.functions.withdrawSanctionOf(w.provider.address),
    ),
    (
        "Vault.setWhitelist",
        lambda p, w, e: p.vault.functions.setWhitelist(w.outsider.address, True),
    ),
    ("Vault.setMinLockupPerSource", lambda p, w, e: p.vault.functions.setMinLockupPerSource(0)),
    ("Vault.setMaxUnbondingPeriod", lambda p, w, e: p.vault.functions.setMaxUnbondingPeriod(0)),
    ("Vault.setTerminal", lambda p, w, e: p.vault.functions.setTerminal(w.outsider.address)),
    (
        "Manager.grantRole",
        lambda p, w, e: p.manager.functions.grantRole(b"\x00" * 32, w.outsider.address),
    ),
]

OWNER_ONLY: list[tuple[str, Callable[[Any, Any, dict[str, str]], Any]]] = [
    ("Nexus.setManager", lambda p, w, e: p.nexus.functions.setManager(w.outsider.address)),
    ("Nexus.setTerminal", lambda p, w, e: p.nexus.functions.setTerminal(w.outsider.address)),
    ("Nexus.setVault", lambda p, w, e: p.nexus.functions.setVault(w.outsider.address)),
    ("Nexus.transferOwnership", lambda p, w, e: p.nexus.functions.transferOwnership(w.outsider.address)),
    ("Nexus.renounceOwnership", lambda p, w, e: p.nexus.functions.renounceOwnership()),
    ("Controller.setNexus", lambda p, w, e: p.controller.functions.setNexus(w.outsider.address)),
    ("Controller.setTerminal", lambda p, w, e: p.controller.functions.setTerminal(w.outsider.address)),
    ("Controller.setVault", lambda p, w, e: p.controller.functions.setVault(w.outsider.address)),
    ("Controller.renounceOwnership", lambda p, w, e: p.controller.functions.renounceOwnership()),
    ("Terminal.setManager", lambda p, w, e: p.terminal.functions.setManager(w.outsider.address)),
    ("Terminal.setVault", lambda p, w, e: p.terminal.functions.setVault(w.outsider.address)),
    # per-entity contracts are owned by the protocol contract that created them
    ("Source.transferOwnership", lambda p, w, e: p.source(e["source"]).functions.transferOwnership(w.outsider.address)),
    ("Task.renounceOwnership", lambda p, w, e: p.task(e["task"]).functions.renounceOwnership()),
    ("Response.renounceOwnership", lambda p, w, e: p.response(e["response"]).functions.renounceOwnership()),
]  # fmt: skip


@pytest.mark.parametrize("build", [b for _, b in PRIVILEGED], ids=[n for n, _ in PRIVILEGED])
def test_protocol_only_entry_points(
    proto: Protocol, proto_world: World, entities: dict[str, str], build: Any
) -> None:
    fn = build(proto, proto_world, entities)
    for caller in (proto_world.outsider, proto_world.client, proto_world.admin):
        proto.expect_revert(fn, caller, "Unauthorized")


@pytest.mark.parametrize("build", [b for _, b in ADMIN_ONLY], ids=[n for n, _ in ADMIN_ONLY])
def test_admin_only_entry_points(
    proto: Protocol, proto_world: World, entities: dict[str, str], build: Any
) -> None:
    fn = build(proto, proto_world, entities)
    for caller in (proto_world.outsider, proto_world.client, proto_world.provider):
        proto.expect_revert(fn, caller, "Unauthorized")


@pytest.mark.parametrize("build", [b for _, b in OWNER_ONLY], ids=[n for n, _ in OWNER_ONLY])
def test_owner_only_entry_points(
    proto: Protocol, proto_world: World, entities: dict[str, str], build: Any
) -> None:
    fn = build(proto, proto_world, entities)
    for caller in (proto_world.outsider, proto_world.client):
        proto.expect_revert(fn, caller, "NotOwner")


def test_owners_of_entities(proto: Protocol, proto_world: World, entities: dict[str, str]) -> None:
    assert proto.source(entities["source"]).functions.owner().call() == proto.nexus.address
    assert proto.task(entities["task"]).functions.owner().call() == proto.controller.address
    assert proto.response(entities["response"]).functions.owner().call() == proto.nexus.address
    assert proto.nexus.functions.owner().call() == proto_world.admin.address
    assert proto.controller.functions.owner().call() == proto_world.admin.address
    assert proto.controller.functions.nexus().call() == proto.nexus.address
    assert proto.controller.functions.vault().call() == proto.vault.address
    assert proto.controller.functions.terminal().call() == proto.terminal.address
    assert proto.nexus.functions.manager().call() == proto.manager.address
    assert proto.nexus.functions.vault().call() == proto.vault.address
    assert proto.nexus.functions.terminal().call() == proto.terminal.address


def test_owner_setter_works_for_owner(proto: Protocol, proto_world: World) -> None:
    """The owner's setters do take effect (then the snapshot restores the wiring)."""
    w = proto_world
    proto.send(proto.nexus.functions.setVault(w.outsider.address), w.admin)
    assert proto.nexus.functions.vault().call() == w.outsider.address
