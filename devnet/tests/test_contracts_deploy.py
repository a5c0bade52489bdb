"""ogpu_devnet.contracts: artifacts and deploy_protocol through plain JSON-RPC."""

from __future__ import annotations

from typing import Any

import pytest
from ogpu.ipfs import OGPUError
from ogpu_devnet.contracts import (
    CONTRACT_NAMES,
    PROTOCOL_KEYS,
    DeployError,
    UnknownContractError,
    deploy_protocol,
    load_artifact,
    predict_addresses,
)
from ogpu_devnet.errors import DevnetError
from web3 import Web3


def test_load_artifact_returns_fresh_copies() -> None:
    for name in CONTRACT_NAMES:
        artifact = load_artifact(name)
        assert isinstance(artifact["abi"], list)
        assert artifact["bytecode"].startswith("0x")
        artifact["abi"].clear()
        assert load_artifact(name)["abi"]


def test_load_artifact_unknown_name() -> None:
    with pytest.raises(UnknownContractError, match="Ownable") as info:
        load_artifact("Ownable")
    assert isinstance(info.value, DevnetError) and not isinstance(info.value, OGPUError)
    assert isinstance(info.value, KeyError)


def test_session_devnet_uses_predicted_addresses(devnet: Any, devnet_accounts: list[Any]) -> None:
    predicted = predict_addresses(devnet_accounts[0].address, 0)
    assert {k: devnet.contracts[k] for k in PROTOCOL_KEYS} == {
        k: predicted[k] for k in PROTOCOL_KEYS
    }


@pytest.mark.usefixtures("devnet_isolated")
def test_second_deployment_from_another_deployer(
    devnet_w3: Web3, devnet_accounts: list[Any]
) -> None:
    deployer = devnet_accounts[9]
    nonce = devnet_w3.eth.get_transaction_count(deployer.address)
    addresses = deploy_protocol(
        devnet_w3, deployer.private_key, unbonding_period=5, min_lockup_per_source=7
    )
    assert sorted(addresses) == sorted(PROTOCOL_KEYS)
    predicted = predict_addresses(deployer.address, nonce)
    assert addresses == {k: predicted[k] for k in PROTOCOL_KEYS}
    assert devnet_w3.eth.get_transaction_count(deployer.address) == nonce + 11
    vault = devnet_w3.eth.contract(address=addresses["VAULT"], abi=load_artifact("Vault")["abi"])
    assert vault.functions.UNBONDING_PERIOD().call() == 5
    assert vault.functions.MIN_LOCKUP_PER_SOURCE().call() == 7
    nexus = devnet_w3.eth.contract(address=addresses["NEXUS"], abi=load_artifact("Nexus")["abi"])
    assert nexus.functions.owner().call() == deployer.address
    assert nexus.functions.checkController(addresses["CONTROLLER"]).call() is True


def test_bad_key_and_parameters_raise_deploy_error(devnet_w3: Web3) -> None:
    secret = "0x" + "zz" * 32
    with pytest.raises(DeployError) as info:
        deploy_protocol(devnet_w3, secret)
    assert secret not in str(info.value)
    assert info.value.__cause__ is None
    key = "0x" + "11" * 32
    with pytest.raises(DeployError, match="unbonding_period"):
        deploy_protocol(devnet_w3, key, unbonding_period=-1)
    with pytest.raises(DeployError, match="min_lockup_per_source"):
        deploy_protocol(devnet_w3, key, min_lockup_per_source=True)
    with pytest.raises(DeployError):
        predict_addresses("not-an-address")


@pytest.mark.usefixtures("devnet_isolated")
def test_unfunded_deployer_fails_cleanly(devnet_w3: Web3) -> None:
    key = "0x" + "42" * 32
    with pytest.raises(DeployError) as info:
        deploy_protocol(devnet_w3, key)
    assert "42" * 32 not in str(info.value)
