"""Determinism and identity of the devnet: accounts, contract addresses, chain id, manifest."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from ogpu.ipfs import OGPUError
from ogpu_devnet import DEFAULT_CONTRACTS, DEVNET_CHAIN_ID, Devnet
from ogpu_devnet.errors import DevnetError
from web3.exceptions import Web3RPCError


def test_session_devnet_uses_the_default_addresses(devnet: Any) -> None:
    assert devnet.chain_id == DEVNET_CHAIN_ID == 31071
    assert devnet.contracts == DEFAULT_CONTRACTS
    for address in DEFAULT_CONTRACTS.values():
        assert len(devnet.web3().eth.get_code(address)) > 0


def test_manifest_shape(devnet: Any) -> None:
    manifest = devnet.manifest()
    assert set(manifest) == {
        "rpc_url",
        "chain_id",
        "contracts",
        "ipfs_publish_url",
        "ipfs_gateway_url",
        "accounts",
    }
    assert manifest["rpc_url"] == devnet.rpc_url
    assert manifest["chain_id"] == 31071
    assert {"NEXUS", "CONTROLLER", "TERMINAL", "VAULT"} <= set(manifest["contracts"])
    assert manifest["ipfs_publish_url"] == devnet.ipfs.base_url + "/file/create"
    assert manifest["ipfs_gateway_url"] == devnet.ipfs.base_url + "/ipfs"
    assert len(manifest["accounts"]) == 10
    for entry in manifest["accounts"]:
        assert Account.from_key(entry["private_key"]).address == entry["address"]


def test_custom_chain_id_same_addresses_and_replay_protection() -> None:
    with Devnet(chain_id=777) as net:
        w3: Any = net.web3()
        assert w3.eth.chain_id == 777 and w3.net.version == "777"
        assert net.contracts == DEFAULT_CONTRACTS
        assert net.manifest()["chain_id"] == 777
        acct = Account.from_key(net.accounts[1].private_key)
        tx = {
            "to": net.accounts[2].address,
            "value": 1,
            "gas": 21000,
            "maxFeePerGas": 10 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "nonce": 0,
        }
        with pytest.raises(Web3RPCError, match="chain id"):
            w3.eth.send_raw_transaction(
                acct.sign_transaction({**tx, "chainId": 31071}).raw_transaction
            )
        tx_hash = w3.eth.send_raw_transaction(
            acct.sign_transaction({**tx, "chainId": 777}).raw_transaction
        )
        assert w3.eth.get_transaction_receipt(tx_hash)["status"] == 1
        assert w3.eth.get_transaction(tx_hash)["chainId"] == 777


@pytest.mark.parametrize(
    "kwargs",
    [
        {"rpc_port": -1},
        {"ipfs_port": 70000},
        {"unbonding_period": -5},
        {"min_lockup_per_source": "1"},
        {"chain_id": 0},
    ],
)
def test_bad_settings_raise_typed_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(DevnetError) as info:
        Devnet(**kwargs).start()
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, OGPUError)  # the devnet's errors have their own root


def test_not_running_devnet_raises_typed_error() -> None:
    net = Devnet()
    with pytest.raises(DevnetError, match="not running"):
        _ = net.rpc_url
    net.stop()  # idempotent, also before start
    assert "stopped" in repr(net)
