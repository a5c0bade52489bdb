"""Validation before any I/O, across the public protocol surface.

The current chain is pointed at a closed local port: any request would raise a TxRpcError
(RpcTransportError), so a ValidationError / MissingSignerError proves nothing was sent.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from ogpu.chain import ChainConfig, ChainId
from ogpu.protocol import Master, Provider, Response, Source, Task, controller, nexus, terminal
from ogpu.protocol import vault as vault_mod
from ogpu.types import (
    InvalidAddressError,
    InvalidAmountError,
    InvalidArgumentTypeError,
    MissingSignerError,
    Receipt,
    Role,
    SourceParams,
    TaskParams,
    TxRpcError,
    ValidationError,
)

from .conftest import set_live_data

KEY = "0x" + "4c" * 32
GOOD = "0x2b0cC6058313801D5feb184a539e3a0C5A87a6a1"
BAD_CHECKSUM = "0x2B0cC6058313801D5feb184a539e3a0C5A87a6a1"  # mixed case, wrong EIP-55
MALFORMED = "0x2b0cc6058313801d5feb184a539e3a0c5a87a6"  # 38 hex digits
OFFLINE_CHAIN = 4244


@pytest.fixture
def offline() -> Iterator[None]:
    """Current chain = a registered chain whose RPC port nothing listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    contracts = {n: "0x" + str(i) * 40 for i, n in enumerate(("NEXUS", "CONTROLLER"), 1)}
    contracts.update({"TERMINAL": "0x" + "3" * 40, "VAULT": "0x" + "4" * 40})
    handle = ChainConfig.register_chain(
        OFFLINE_CHAIN, "offline", f"http://127.0.0.1:{port}", contracts
    )
    previous = ChainConfig.get_current_chain()
    ChainConfig.set_chain(handle)
    try:
        yield
    finally:
        ChainConfig.set_chain(previous if previous != handle else ChainId.OGPU_MAINNET)
        ChainConfig.unregister_chain(handle)


def _source_params(**kw: Any) -> SourceParams:
    base: dict[str, Any] = {
        "client": GOOD,
        "imageMetadataUrl": "ipfs://m",
        "imageEnvironments": 1,
        "minPayment": 1,
        "minAvailableLockup": 0,
        "maxExpiryDuration": 60,
    }
    base.update(kw)
    return SourceParams(**base)


def _task_params(**kw: Any) -> TaskParams:
    base: dict[str, Any] = {"source": GOOD, "config": "ipfs://c", "expiryTime": 10, "payment": 1}
    base.update(kw)
    return TaskParams(**base)


def _address_calls(bad: str) -> list[Callable[[], Any]]:
    """Every public call taking an address, with ``bad`` in that place."""
    s = {"signer": KEY}
    return [
        lambda: nexus.update_source(bad, _source_params(), **s),
        lambda: nexus.inactivate_source(bad, **s),
        lambda: nexus.register(bad, GOOD, 1, **s),
        lambda: nexus.register(GOOD, bad, 1, **s),
        lambda: nexus.unregister(bad, GOOD, **s),
        lambda: nexus.unregister(GOOD, bad, **s),
        lambda: nexus.attempt(bad, GOOD, 1, **s),
        lambda: nexus.attempt(GOOD, bad, 1, **s),
        lambda: nexus.publish_source(_source_params(client=bad), **s),
        lambda: controller.publish_task(_task_params(source=bad), **s),
        lambda: controller.cancel_task(bad, **s),
        lambda: controller.confirm_response(bad, **s),
        lambda: terminal.announce_master(bad, **s),
        lambda: terminal.announce_provider(bad, 1, **s),
        lambda: terminal.remove_provider(bad, **s),
        lambda: terminal.remove_container(bad, GOOD, **s),
        lambda: terminal.remove_container(GOOD, bad, **s),
        lambda: terminal.set_agent(bad, True, **s),
        lambda: terminal.revoke_agent(bad, **s),
        lambda: terminal.get_master_of(bad),
        lambda: terminal.get_provider_of(bad),
        lambda: terminal.is_agent_of(bad, GOOD),
        lambda: terminal.is_agent_of(GOOD, bad),
        lambda: terminal.is_master(bad),
        lambda: terminal.is_provider(bad),
        lambda: terminal.is_default_agent_disabled(bad),
        lambda: terminal.get_base_data_of(bad),
        lambda: terminal.get_live_data_of(bad),
        lambda: vault_mod.deposit(bad, 1, signer=KEY),
        lambda: vault_mod.get_balance_of(bad),
        lambda: vault_mod.get_lockup_of(bad),
        lambda: vault_mod.get_unbonding_of(bad),
        lambda: vault_mod.get_unbonding_timestamp(bad),
        lambda: vault_mod.get_total_earnings_of(bad),
        lambda: vault_mod.get_frozen_payment(bad),
        lambda: vault_mod.get_sanction_of(bad),
        lambda: vault_mod.is_eligible(bad),
        lambda: vault_mod.is_whitelisted(bad),
        lambda: Source(bad),
        lambda: Task(bad),
        lambda: Response(bad),
        lambda: Provider(bad),
        lambda: Master(bad),
        lambda: Source.load(bad),
        lambda: Task.load(bad),
        lambda: Source(GOOD).get_registrant_id(bad),
        lambda: Source(GOOD).get_preferred_environment_of(bad),
        lambda: Task(GOOD).get_attempter_id(bad),
        lambda: Task(GOOD).get_response_of(bad),
        lambda: Provider(GOOD).register_to(bad, 1, **s),
        lambda: Provider(GOOD).unregister_from(bad, **s),
        lambda: Provider(GOOD).attempt(bad, 1, **s),
        lambda: Provider(GOOD).announce_master(bad, **s),
        lambda: Master(GOOD).announce_provider(bad, 1, **s),
        lambda: Master(GOOD).remove_provider(bad, **s),
        lambda: Master(GOOD).set_agent(bad, True, **s),
    ]


@pytest.mark.usefixtures("offline")
@pytest.mark.parametrize("bad", [BAD_CHECKSUM, MALFORMED, "0x" + "zz" * 20, GOOD[2:], ""])
def test_bad_addresses_rejected_before_io(bad: str) -> None:
    for i, call in enumerate(_address_calls(bad)):
        with pytest.raises(InvalidAddressError) as err:
            call()
        assert not isinstance(err.value, TxRpcError), i
        assert str(err.value).startswith("invalid "), i


@pytest.mark.usefixtures("offline")
def test_wrong_address_types_rejected_before_io() -> None:
    for value in (123, None, 1.5, ["0x"]):
        for call in _address_calls(value):  # type: ignore[arg-type]
            with pytest.raises(InvalidArgumentTypeError):
                call()


def test_lowercase_and_uppercase_addresses_stay_accepted() -> None:
    assert Task(GOOD.lower()).address == GOOD
    assert Task("0x" + GOOD[2:].upper()).address == GOOD
    assert Task(GOOD) == Task(GOOD.lower())


def test_a_private_key_given_as_address_is_never_kept() -> None:
    secret = "0x" + "5e" * 32
    with pytest.raises(InvalidAddressError) as err:
        Task(secret)
    text = str(err.value) + repr(err.value) + repr(err.value.value) + repr(err.value.__reduce__())
    assert "5e5e5e" not in text
    with pytest.raises(InvalidAddressError) as err2:
        vault_mod.get_balance_of(bytes.fromhex(secret[2:]))  # type: ignore[arg-type]
    assert "5e5e5e" not in repr(err2.value.value) + str(err2.value)


@pytest.mark.usefixtures("offline")
def test_bad_amounts_rejected_before_io() -> None:
    s = {"signer": KEY}
    amount_calls: list[Callable[[Any], Any]] = [
        lambda v: vault_mod.deposit(GOOD, v, **s),
        lambda v: vault_mod.withdraw(v, **s),
        lambda v: vault_mod.lock(v, **s),
        lambda v: vault_mod.unbond(v, **s),
        lambda v: terminal.announce_provider(GOOD, v, **s),
        lambda v: nexus.attempt(GOOD, GOOD, v, **s),
        lambda v: controller.publish_task(_task_params(payment=v), **s),
        lambda v: controller.publish_task(_task_params(expiryTime=v), **s),
        lambda v: nexus.publish_source(_source_params(minPayment=v), **s),
        lambda v: nexus.publish_source(_source_params(minAvailableLockup=v), **s),
        lambda v: nexus.publish_source(_source_params(maxExpiryDuration=v), **s),
        lambda v: Provider(GOOD).stake(v, **s),
        lambda v: Master(GOOD).unstake(v, **s),
        lambda v: Master(GOOD).announce_provider(GOOD, v, **s),
        lambda v: Provider(GOOD).attempt(GOOD, v, **s),
    ]
    for i, call in enumerate(amount_calls):
        for value in (-1, 2**256):
            with pytest.raises(InvalidAmountError) as err:
                call(value)
            assert err.value.value == value or value == 2**256, i
        for value in (1.0, "1", True, None):
            with pytest.raises(InvalidArgumentTypeError):
                call(value)


@pytest.mark.usefixtures("offline")
def test_wrong_types_and_values_rejected_before_io() -> None:
    s = {"signer": KEY}
    calls: list[tuple[Callable[[], Any], type[Exception]]] = [
        (lambda: terminal.set_agent(GOOD, "yes", **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: terminal.set_default_agent_disabled(1, **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: nexus.register(GOOD, GOOD, 3, **s), ValidationError),
        (lambda: nexus.register(GOOD, GOOD, "CPU", **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: nexus.publish_source({"client": GOOD}, **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: nexus.publish_source(_source_params(imageEnvironments=8), **s), ValidationError),
        (lambda: nexus.publish_source(_source_params(deliveryMethod=2), **s), ValidationError),
        (lambda: controller.publish_task(_task_params(config=1), **s), InvalidArgumentTypeError),
        (lambda: controller.publish_task(object(), **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: nexus.extract_source_address({"logs": []}), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: controller.extract_task_address("0x"), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: Source(GOOD).set_status(1, **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: Source(GOOD).get_tasks("0"), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: Source(GOOD).get_registrants(0, 1.5), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: Source(GOOD).get_task_snapshots(-1), ValidationError),
        (lambda: Task(GOOD).get_responses(3, 1), ValidationError),
        (lambda: Task(GOOD).get_attempt_timestamps(True), InvalidArgumentTypeError),
        (lambda: Task(GOOD).is_already_submitted(b"short"), ValidationError),
        (lambda: Task(GOOD).is_already_submitted("0xnothex"), ValidationError),
        (lambda: Task(GOOD).is_already_submitted(12), ValidationError),  # type: ignore[arg-type]
        (lambda: Provider(GOOD).set_default_agent_disabled("no", **s), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: Provider(GOOD).register_to(GOOD, 6, **s), ValidationError),
        (lambda: ChainConfig.get_contract_address(5), InvalidArgumentTypeError),  # type: ignore[arg-type]
        (lambda: ChainConfig.set_rpc(42), InvalidArgumentTypeError),  # type: ignore[arg-type]
    ]
    from ogpu.protocol import snapshot_all

    calls.append((lambda: snapshot_all([GOOD]), InvalidArgumentTypeError))
    for i, (call, error) in enumerate(calls):
        with pytest.raises(error) as err:
            call()
        assert not isinstance(err.value, TxRpcError), i


@pytest.mark.usefixtures("offline")
def test_vault_writes_demand_an_explicit_signer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with every role's key in the environment, Vault writes never fall back to it."""
    for role in Role:
        monkeypatch.setenv(role.env_var, KEY)
    writes: list[Callable[[], Receipt]] = [
        lambda: vault_mod.deposit(GOOD, 1, signer=None),  # type: ignore[arg-type]
        lambda: vault_mod.withdraw(1, signer=None),  # type: ignore[arg-type]
        lambda: vault_mod.lock(1, signer=None),  # type: ignore[arg-type]
        lambda: vault_mod.unbond(1, signer=None),  # type: ignore[arg-type]
        lambda: vault_mod.cancel_unbonding(signer=None),  # type: ignore[arg-type]
        lambda: vault_mod.claim(signer=None),  # type: ignore[arg-type]
        lambda: Provider(GOOD).stake(1, signer=None),  # type: ignore[arg-type]
        lambda: Provider(GOOD).unstake(1, signer=None),  # type: ignore[arg-type]
        lambda: Master(GOOD).cancel_unbonding(signer=None),  # type: ignore[arg-type]
        lambda: Master(GOOD).claim_earnings(signer=None),  # type: ignore[arg-type]
        lambda: Master(GOOD).deposit_to_vault(1, signer=None),  # type: ignore[arg-type]
        lambda: Provider(GOOD).withdraw_from_vault(1, signer=None),  # type: ignore[arg-type]
    ]
    for call in writes:
        with pytest.raises(MissingSignerError) as err:
            call()
        assert err.value.role is None and "explicit signer" in str(err.value)
    # and the signer is a required keyword: no default to fall back on
    for func in (
        vault_mod.deposit,
        vault_mod.withdraw,
        vault_mod.lock,
        vault_mod.unbond,
        vault_mod.cancel_unbonding,
        vault_mod.claim,
        Provider.stake,
        Master.unstake,
        Master.claim_earnings,
        Provider.cancel_unbonding,
        Provider.deposit_to_vault,
        Master.withdraw_from_vault,
    ):
        param = inspect.signature(func).parameters["signer"]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        assert param.default is inspect.Parameter.empty, func.__qualname__
    # role writes do fall back to the role's variable (then fail on the closed port: I/O)
    with pytest.raises(TxRpcError):
        set_live_data("x")
