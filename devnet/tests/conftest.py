"""Shared fixtures of the devnet test suite.

The ``devnet``, ``devnet_w3``, ``devnet_accounts`` and ``devnet_isolated`` fixtures come from the
``ogpu_devnet`` pytest plugin. This file adds only what several test modules need on top of them.

Protocol section (tests/test_protocol_*.py): ``proto`` gives plain-web3.py access to the deployed
stub contracts through the *deployed* (mainnet) ABIs, signing locally and sending raw
transactions; ``proto_world`` builds, once per module inside an evm_snapshot, a small network
(funded client, two providers with lockup, a paired master, agents, one FIRST_RESPONSE and one
MANUAL_CONFIRMATION source with both providers registered).

Backends: ``proto`` runs on the node ``backend`` gives. Every ``test_protocol_*.py`` test runs
twice, on the embedded py-evm devnet (``pyevm``, the session ``devnet``) and on Hardhat's node
with the same contracts deployed (``hardhat``, marked slow: one node per session, started on
first use and stopped at the end; skipped where Node.js/npm is missing). Other modules using
``proto`` (the conformance CLI, the live-chain rows) run on ``pyevm`` only. A test marked
``@pytest.mark.pyevm_only(reason=...)`` is skipped on hardhat with that reason (where Hardhat's
node, not the protocol, differs). ``backend_isolated`` takes an evm_snapshot before each test
and reverts it afterwards on either backend; ``backend_accounts`` are the funded accounts (the
same public test keys on both).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3
from web3._utils.events import get_event_data
from web3.contract import Contract
from web3.exceptions import ContractLogicError

# ---------------------------------------------------------------------------- backends

BACKENDS = ["pyevm", pytest.param("hardhat", marks=pytest.mark.slow)]
"""The nodes the stub-protocol suite runs on (the ids of the ``backend`` parameter)."""

PARAMETRISED_MODULES = "test_protocol_"
"""Test modules whose name starts with this run on every backend of :data:`BACKENDS`."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "pyevm_only(reason): on the stub-protocol suite's hardhat backend, skip with this reason",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the ``pyevm_only`` tests on the hardhat backend, saying why."""
    for item in items:
        marker = item.get_closest_marker("pyevm_only")
        callspec = getattr(item, "callspec", None)
        if marker is None or callspec is None or callspec.params.get("backend") != "hardhat":
            continue
        reason = marker.kwargs.get("reason") or (marker.args[0] if marker.args else "")
        item.add_marker(pytest.mark.skip(reason=f"py-evm only: {reason}"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the stub-protocol modules on both backends (one session-wide node each)."""
    name = metafunc.definition.path.name
    if name.startswith(PARAMETRISED_MODULES) and "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", BACKENDS, indirect=True, scope="session")


@pytest.fixture(scope="session")
def hardhat_devnet() -> Iterator[Any]:
    """Hardhat's node with the protocol deployed and a pinning service, once per session."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm not found: cannot run Hardhat's node")
    from ogpu_devnet._hardhat import HardhatDevnet

    with HardhatDevnet() as net:
        yield net


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> Any:
    """The running node of this test's backend: the py-evm ``devnet`` (default) or
    ``hardhat_devnet``. Both have ``rpc_url``, ``contracts``, ``accounts`` and ``web3()``."""
    name = getattr(request, "param", "pyevm")
    return request.getfixturevalue("devnet" if name == "pyevm" else "hardhat_devnet")


@pytest.fixture(scope="session")
def backend_accounts(backend: Any) -> list[Any]:
    """The backend's funded accounts (``.address``, ``.private_key``; account 0 deployed)."""
    return list(backend.accounts)


@pytest.fixture
def backend_isolated(request: pytest.FixtureRequest, backend: Any) -> Iterator[Any]:
    """The backend, reverted to its pre-test state afterwards: ``devnet_isolated`` on py-evm
    (also restores auto-mining and the fault knobs), evm_snapshot/evm_revert on Hardhat."""
    if getattr(backend, "chain", None) is not None:  # the py-evm Devnet
        yield request.getfixturevalue("devnet_isolated")
        return
    w3 = backend.web3()
    snapshot = w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        yield backend
    finally:
        assert w3.provider.make_request("evm_revert", [snapshot])["result"] is True


# ---------------------------------------------------------------------------- protocol section

ABI_ROOT = Path(__file__).resolve().parents[2] / "packages/ogpu-protocol/src/ogpu/protocol/abis"

ZERO = "0x0000000000000000000000000000000000000000"
ETHER = 10**18
GAS = 5_000_000
MAX_FEE = 50 * 10**9
TIP = 10**9

# enums (network.md)
NEW, ATTEMPTED, RESPONDED, CANCELED, EXPIRED, FINALIZED = range(6)
ACTIVE, INACTIVE = 0, 1
SUBMITTED, CONFIRMED = 0, 1
MANUAL_CONFIRMATION, FIRST_RESPONSE = 0, 1
CPU, NVIDIA, AMD = 1, 2, 4


def _abi(name: str, network: str = "mainnet") -> list[dict[str, Any]]:
    return json.loads((ABI_ROOT / network / f"{name}Abi.json").read_text(encoding="utf-8"))


class Protocol:
    """The stub protocol on the session devnet, driven with plain web3.py."""

    def __init__(self, w3: Web3, addresses: dict[str, str]) -> None:
        self.w3 = w3
        self.chain_id = w3.eth.chain_id
        self.addresses = dict(addresses)
        self._abis = {n: _abi(n) for n in ("Nexus", "Controller", "Terminal", "Vault", "Manager")}
        self._abis.update({n: _abi(n) for n in ("Source", "Task", "Response")})
        self.nexus = self.at("Nexus", addresses["NEXUS"])
        self.controller = self.at("Controller", addresses["CONTROLLER"])
        self.terminal = self.at("Terminal", addresses["TERMINAL"])
        self.vault = self.at("Vault", addresses["VAULT"])
        self.manager = self.at("Manager", addresses["MANAGER"])

    # -- contracts
    def at(self, name: str, address: str) -> Contract:
        """A contract object with the deployed (mainnet) ABI of ``name``."""
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=self._abis[name])

    def ours(self, name: str, address: str) -> Contract:
        """A contract object with the devnet's compiled ABI (includes the stubs' extra views)."""
        from ogpu_devnet.contracts import load_artifact

        abi = load_artifact(name)["abi"]
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)

    def source(self, address: str) -> Contract:
        return self.at("Source", address)

    def task(self, address: str) -> Contract:
        return self.at("Task", address)

    def response(self, address: str) -> Contract:
        return self.at("Response", address)

    # -- transactions
    def send(self, fn: Any, signer: Any, value: int = 0) -> Any:
        """Sign ``fn`` locally with ``signer`` (.private_key), send it raw, return the receipt."""
        acct = Account.from_key(signer.private_key)
        tx = fn.build_transaction(
            {
                "from": acct.address,
                "value": value,
                "nonce": self.w3.eth.get_transaction_count(acct.address, "pending"),
                "gas": GAS,
                "maxFeePerGas": MAX_FEE,
                "maxPriorityFeePerGas": TIP,
                "chainId": self.chain_id,
            }
        )
        signed = acct.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.01)
        if receipt["status"] != 1:
            try:
                fn.call({"from": acct.address, "value": value}, block_identifier="latest")
                reason = "unknown (call succeeds now)"
            except ContractLogicError as exc:
                reason = str(exc)
            raise AssertionError(f"transaction reverted: {reason}")
        return receipt

    def revert_reason(self, fn: Any, signer: Any, value: int = 0) -> str:
        """eth_call ``fn`` from ``signer``; it must revert; returns web3's error message."""
        sender = signer if isinstance(signer, str) else signer.address
        with pytest.raises(ContractLogicError) as info:
            fn.call({"from": sender, "value": value})
        return str(info.value)

    def expect_revert(self, fn: Any, signer: Any, reason: str, value: int = 0) -> None:
        """Assert that ``fn`` sent by ``signer`` reverts with ``reason``."""
        message = self.revert_reason(fn, signer, value)
        assert reason in message, f"expected revert {reason!r}, got {message!r}"

    def events(self, receipt: Any, contract: Contract, name: str) -> list[dict[str, Any]]:
        """Decoded args of the ``name`` logs that ``contract`` emitted in ``receipt``."""
        abi = next(e for e in contract.abi if e.get("type") == "event" and e["name"] == name)
        topic = Web3.keccak(text=f"{name}({','.join(_canonical(i) for i in abi['inputs'])})")
        out = []
        for log in receipt["logs"]:
            if log["address"] == contract.address and log["topics"][0] == topic:
                out.append(dict(get_event_data(self.w3.codec, abi, log)["args"]))
        return out

    # -- time
    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        """Move the latest block's timestamp at least ``seconds`` forward with evm_increaseTime
        and evm_mine over JSON-RPC (the clock offset is relative to wall time, like anvil's,
        so the step repeats until the mined block has caught up)."""
        target = self.now() + seconds
        step = seconds
        while True:
            self.w3.provider.make_request("evm_increaseTime", [step])  # type: ignore[arg-type]
            self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
            latest = self.now()
            if latest >= target:
                return
            step = target - latest

    # -- protocol flows
    def source_params(
        self,
        client: str,
        *,
        envs: int = CPU | NVIDIA,
        min_payment: int = 10**15,
        min_lockup: int = 0,
        max_expiry: int = 3600,
        delivery: int = FIRST_RESPONSE,
        url: str = "https://ipfs.example/ipfs/QmSourceMeta",
    ) -> tuple[Any, ...]:
        return (client, url, envs, min_payment, min_lockup, max_expiry, False, "", delivery, 0)

    def publish_source(self, client: Any, signer: Any = None, **kw: Any) -> str:
        params = self.source_params(client.address, **kw)
        receipt = self.send(self.nexus.functions.publishSource(params), signer or client)
        (event,) = self.events(receipt, self.nexus, "SourcePublished")
        return str(event["source"])

    def publish_task(
        self,
        source: str,
        client: Any,
        *,
        payment: int = 10**16,
        expires_in: int = 600,
        config: str = "https://ipfs.example/ipfs/QmTaskConfig",
        signer: Any = None,
    ) -> str:
        params = (source, config, self.now() + expires_in, payment)
        receipt = self.send(self.controller.functions.publishTask(params), signer or client)
        (event,) = self.events(receipt, self.nexus, "TaskPublished")
        return str(event["task"])

    def attempt(self, task: str, provider: Any, suggested: int = 0, signer: Any = None) -> Any:
        fn = self.nexus.functions.attempt(task, provider.address, suggested)
        return self.send(fn, signer or provider)

    def submit(self, task: str, provider: Any, data: str, payment: int) -> tuple[str, Any]:
        fn = self.nexus.functions.submitResponse((task, provider.address, data, payment))
        receipt = self.send(fn, provider)
        (event,) = self.events(receipt, self.nexus, "ResponseSubmitted")
        return str(event["response"]), receipt

    def ledger(self, account: str) -> dict[str, int]:
        v = self.vault.functions
        return {
            "balance": v.balanceOf(account).call(),
            "lockup": v.lockupOf(account).call(),
            "unbonding": v.unbondingOf(account).call(),
            "frozen": v.frozenPayment(account).call(),
        }

    def assert_conserved(self, accounts: list[str]) -> None:
        """The Vault's native balance equals the sum of its ledgers (over ``accounts``,
        which must include every account that ever held funds in it) plus sanctions."""
        total = sum(sum(self.ledger(a).values()) for a in accounts)
        total += self.vault.functions.sanctionedAmount().call()
        assert self.w3.eth.get_balance(self.vault.address) == total


def _canonical(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_canonical(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


@dataclass
class World:
    """The accounts and sources proto_world sets up."""

    admin: Any
    client: Any
    provider: Any
    master: Any
    agent: Any
    outsider: Any
    provider2: Any
    client2: Any
    src_first: str
    src_manual: str

    def vault_accounts(self) -> list[str]:
        return [
            a.address
            for a in (
                self.admin,
                self.client,
                self.provider,
                self.master,
                self.agent,
                self.outsider,
                self.provider2,
                self.client2,
            )
        ]


@pytest.fixture(scope="session")
def proto(backend: Any) -> Protocol:
    """Plain-web3.py access to the backend's deployed protocol (mainnet ABIs)."""
    return Protocol(backend.web3(), backend.contracts)


@pytest.fixture(scope="module")
def proto_world(proto: Protocol, backend_accounts: list[Any]) -> Iterator[World]:
    """A small network built once per module inside an evm_snapshot, reverted afterwards.

    client (10 ether in the Vault), provider and provider2 (0.1 ether locked each), master
    paired with provider, agent authorised by client and by master, and two sources (CPU|NVIDIA,
    minPayment 0.001 ether): src_first (FIRST_RESPONSE) and src_manual (MANUAL_CONFIRMATION),
    with provider (env CPU) and provider2 (env NVIDIA) registered to both.
    """
    snapshot = proto.w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    a = backend_accounts
    world_accounts = dict(
        admin=a[0], client=a[1], provider=a[2], master=a[3], agent=a[4], outsider=a[5],
        provider2=a[6], client2=a[7],
    )  # fmt: skip
    v, t, n = proto.vault.functions, proto.terminal.functions, proto.nexus.functions
    client, provider, provider2 = a[1], a[2], a[6]
    master, agent = a[3], a[4]
    proto.send(v.deposit(client.address), client, value=10 * ETHER)
    for p in (provider, provider2):
        proto.send(v.deposit(p.address), p, value=ETHER // 10)
        proto.send(v.lock(ETHER // 10), p)
    proto.send(t.announceMaster(master.address), provider)
    proto.send(t.announceProvider(provider.address, 0), master)
    proto.send(t.setAgent(agent.address, True), client)
    proto.send(t.setAgent(agent.address, True), master)
    src_first = proto.publish_source(client, delivery=FIRST_RESPONSE)
    src_manual = proto.publish_source(client, delivery=MANUAL_CONFIRMATION)
    for src in (src_first, src_manual):
        proto.send(n.register(src, provider.address, CPU), provider)
        proto.send(n.register(src, provider2.address, NVIDIA), provider2)
    try:
        yield World(**world_accounts, src_first=src_first, src_manual=src_manual)
    finally:
        proto.w3.provider.make_request("evm_revert", [snapshot])  # type: ignore[arg-type]
