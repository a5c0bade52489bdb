"""Unit tests of ogpu.chain: chains, registration, validation and signer resolution."""

from __future__ import annotations

import socket

import pytest
from eth_account import Account
from ogpu.chain import (
    CHAIN_RPC_URLS,
    ChainConfig,
    ChainId,
    CustomChain,
    check_amount,
    resolve_signer,
    to_checksum,
)
from ogpu.types import (
    ChainNotSupportedError,
    InvalidAddressError,
    InvalidAmountError,
    InvalidArgumentTypeError,
    InvalidRpcUrlError,
    InvalidSignerError,
    MissingSignerError,
    Role,
    ValidationError,
)

KEY = "0x" + "11" * 32
NEXUS_MAIN = "0x2b0cC6058313801D5feb184a539e3a0C5A87a6a1"


@pytest.fixture
def restore_chain():  # type: ignore[no-untyped-def]
    previous = ChainConfig.get_current_chain()
    yield
    ChainConfig.set_chain(previous)


def test_builtin_chains() -> None:
    assert ChainId.OGPU_MAINNET.value == 1071 and ChainId.OGPU_TESTNET.value == 200820172034
    assert ChainId.OGPU_DEVNET.value == 31071
    assert ChainConfig.get_contract_address("NEXUS", ChainId.OGPU_MAINNET) == NEXUS_MAIN
    assert ChainConfig.get_contract_address("vault", ChainId.OGPU_TESTNET) == (
        "0x15905a2FbD3EF5d3532b931b5656BB9EB493Bb15"
    )
    assert ChainConfig.get_rpc(ChainId.OGPU_MAINNET) == CHAIN_RPC_URLS[ChainId.OGPU_MAINNET]
    assert ChainConfig.get_ipfs_gateway_url(ChainId.OGPU_MAINNET) is None
    assert ChainConfig.get_abi_set(ChainId.OGPU_TESTNET) == "testnet"
    assert any(
        e.get("name") == "cancelUnbonding"
        for e in ChainConfig.load_abi("Vault", ChainId.OGPU_MAINNET)
    )
    assert not any(
        e.get("name") == "cancelUnbonding"
        for e in ChainConfig.load_abi("VaultAbi", ChainId.OGPU_TESTNET)
    )
    with pytest.raises(ValidationError):
        ChainConfig.get_contract_address("BANK", ChainId.OGPU_MAINNET)


def test_mainnet_is_default_in_a_fresh_process() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ogpu.chain import ChainConfig; print(ChainConfig.get_current_chain().name)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "OGPU_MAINNET"


def test_devnet_defaults_in_a_fresh_process() -> None:
    # In a fresh process: the session's devnet fixture (tests/conftest.py) points the devnet
    # chain at its own ports for the rest of the session, on whichever xdist worker runs it.
    import json
    import subprocess
    import sys

    code = (
        "import json; from ogpu.chain import ChainConfig, ChainId; d = ChainId.OGPU_DEVNET; "
        "print(json.dumps([ChainConfig.get_rpc(d), ChainConfig.get_ipfs_publish_url(d), "
        "ChainConfig.get_ipfs_gateway_url(d)]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rpc, publish_url, gateway_url = json.loads(out.stdout)
    assert rpc == "http://127.0.0.1:8545"
    assert publish_url == "http://127.0.0.1:5001/file/create"
    assert gateway_url == "http://127.0.0.1:5001/ipfs"


def test_set_chain_and_register(restore_chain: None) -> None:
    ChainConfig.set_chain(ChainId.OGPU_TESTNET)
    assert ChainConfig.get_current_chain() is ChainId.OGPU_TESTNET
    ChainConfig.set_chain(1071)
    assert ChainConfig.get_current_chain() is ChainId.OGPU_MAINNET
    with pytest.raises(ChainNotSupportedError):
        ChainConfig.set_chain(999)
    contracts = {
        "NEXUS": NEXUS_MAIN.lower(),
        "CONTROLLER": "0x" + "1" * 40,
        "TERMINAL": "0x" + "2" * 40,
        "VAULT": "0x" + "3" * 40,
    }
    handle = ChainConfig.register_chain(
        4242, "fork", "http://127.0.0.1:1", contracts, ipfs_gateway_url="http://127.0.0.1:2/ipfs"
    )
    try:
        assert isinstance(handle, CustomChain) and handle.value == 4242
        ChainConfig.set_chain(handle)
        assert ChainConfig.get_current_chain() == handle
        assert ChainConfig.get_contract_address("NEXUS") == NEXUS_MAIN
        assert ChainConfig.get_rpc() == "http://127.0.0.1:1"
        assert ChainConfig.get_abi_set() == "mainnet"
        assert handle in ChainConfig.get_all_supported_chains()
    finally:
        ChainConfig.unregister_chain(handle)
    assert ChainConfig.get_current_chain() is ChainId.OGPU_MAINNET
    with pytest.raises(ValidationError):
        ChainConfig.register_chain(4243, "x", "http://127.0.0.1:1", {"NEXUS": NEXUS_MAIN})
    with pytest.raises(InvalidRpcUrlError):
        ChainConfig.register_chain(4243, "x", "ftp://h", contracts)
    with pytest.raises(InvalidAddressError):
        ChainConfig.register_chain(4243, "x", "http://h", dict(contracts, VAULT="0x12"))


def test_set_rpc_checks_connectivity() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    before = ChainConfig.get_rpc(ChainId.OGPU_TESTNET)
    with pytest.raises(InvalidRpcUrlError) as err:
        ChainConfig.set_rpc(f"http://127.0.0.1:{port}", ChainId.OGPU_TESTNET)
    assert err.value.url == f"http://127.0.0.1:{port}"
    assert ChainConfig.get_rpc(ChainId.OGPU_TESTNET) == before
    with pytest.raises(InvalidRpcUrlError):
        ChainConfig.set_rpc("not a url", ChainId.OGPU_TESTNET)


def test_address_validation() -> None:
    assert to_checksum(NEXUS_MAIN.lower()) == NEXUS_MAIN
    assert to_checksum(NEXUS_MAIN) == NEXUS_MAIN
    assert to_checksum("0x" + NEXUS_MAIN[2:].upper()) == NEXUS_MAIN
    wrong = NEXUS_MAIN[:-1] + ("A" if NEXUS_MAIN[-1] != "A" else "B")
    bad_case = "0x2B0cC6058313801D5feb184a539e3a0C5A87a6a1"
    with pytest.raises(InvalidAddressError, match="checksum"):
        to_checksum(bad_case)
    for value in (
        "0x123",
        "2b0cc6058313801d5feb184a539e3a0c5a87a6a1",
        "0x" + "g" * 40,
        wrong + "0",
    ):
        with pytest.raises(InvalidAddressError):
            to_checksum(value)
    with pytest.raises(InvalidArgumentTypeError):
        to_checksum(123)


def test_amount_validation() -> None:
    assert check_amount(0) == 0
    with pytest.raises(InvalidAmountError):
        check_amount(-1)
    with pytest.raises(InvalidAmountError):
        check_amount(2**256)
    for value in (1.5, "1", True, None):
        with pytest.raises(InvalidArgumentTypeError):
            check_amount(value)


def test_protocol_validation_before_io() -> None:
    """Bad input raises before anything touches the (unreachable) mainnet RPC."""
    from ogpu.protocol import Task, controller, nexus, vault
    from ogpu.types import TaskParams

    with pytest.raises(InvalidAmountError):
        vault.deposit(NEXUS_MAIN, -5, signer=KEY)
    with pytest.raises(InvalidAddressError):
        vault.get_balance_of("0xnope")
    with pytest.raises(InvalidArgumentTypeError):
        controller.publish_task({"source": NEXUS_MAIN}, signer=KEY)  # type: ignore[arg-type]
    with pytest.raises(InvalidAmountError):
        controller.publish_task(
            TaskParams(source=NEXUS_MAIN, config="c", expiryTime=1, payment=-1), signer=KEY
        )
    with pytest.raises(ValidationError):
        nexus.register(NEXUS_MAIN, NEXUS_MAIN, 3, signer=KEY)
    with pytest.raises(InvalidAddressError):
        Task("0x2B0cC6058313801D5feb184a539e3a0C5A87a6a1")
    with pytest.raises(ValidationError):
        Task(NEXUS_MAIN).get_attempters(5, 2)
    with pytest.raises(InvalidSignerError):
        vault.lock(1, signer="0x1234")


def test_instances_are_stateless_values() -> None:
    from ogpu.protocol import Response, Source, Task

    a, b = Task(NEXUS_MAIN), Task(NEXUS_MAIN.lower())
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Source(NEXUS_MAIN) and a != NEXUS_MAIN
    assert repr(a) == f"Task('{NEXUS_MAIN}')" and str(Response(NEXUS_MAIN)) == NEXUS_MAIN
    import pickle

    assert pickle.loads(pickle.dumps(a)) == a


def test_resolve_signer(monkeypatch: pytest.MonkeyPatch) -> None:
    acct = resolve_signer(KEY)
    assert acct.address == Account.from_key(KEY).address
    assert resolve_signer(KEY[2:]).address == acct.address
    assert resolve_signer(acct) is acct
    for role in Role:
        monkeypatch.setenv(role.env_var, KEY)
        assert resolve_signer(None, role).address == acct.address
        monkeypatch.delenv(role.env_var)
        with pytest.raises(MissingSignerError) as err:
            resolve_signer(None, role)
        assert err.value.role is role
    with pytest.raises(MissingSignerError):
        resolve_signer(None, None)


@pytest.mark.parametrize(
    "bad", ["0x" + "zz" * 32, "0x" + "00" * 32, "0x" + "ff" * 32, "12" * 31, 42]
)
def test_invalid_keys_never_leak(bad: object, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSignerError) as err:
        resolve_signer(bad)
    text = str(err.value) + repr(err.value) + "".join(str(a) for a in err.value.args)
    if isinstance(bad, str):
        assert bad not in text and bad[2:] not in text
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", "0x" + "ab" * 31 + "zz")
    with pytest.raises(InvalidSignerError) as err2:
        resolve_signer(None, Role.CLIENT)
    assert "CLIENT_PRIVATE_KEY" in str(err2.value) and "abab" not in str(err2.value)
