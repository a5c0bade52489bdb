"""The published 0.2.3's web3-shaped helpers (``ogpu.protocol._compat``) against the devnet:
``load_contract`` + ``TxExecutor`` send through the SDK's executor, reverts come back typed."""

from __future__ import annotations

from typing import Any

import pytest
from ogpu.chain import ChainConfig, ChainId
from ogpu.chain.web3 import WEB3, Web3Manager, get_web3_for_chain
from ogpu.protocol import REVERT_PATTERN_MAP, REVERT_REASONS, TxExecutor, load_contract, vault
from ogpu.types import NotTaskOwnerError, OGPUError, ValidationError


def test_tx_executor_sends_a_write_and_reads_back(net: Any) -> None:
    before = vault.get_balance_of(net.client.address)
    contract = load_contract("VaultAbi")
    assert contract.address == ChainConfig.get_contract_address("VAULT")
    receipt = TxExecutor(
        contract, "deposit", (net.client.address,), signer=net.client.private_key, value=123
    ).execute()
    assert receipt.status == 1
    assert vault.get_balance_of(net.client.address) == before + 123
    # the instance ABIs read through web3.py as in 0.2.3
    source, task = net.full_task()
    assert load_contract("TaskAbi", task.address).functions.getSource().call() == source.address


def test_tx_executor_maps_a_revert_to_its_typed_error(net: Any) -> None:
    _, task = net.full_task()
    controller = load_contract("ControllerAbi")
    with pytest.raises(NotTaskOwnerError):
        TxExecutor(
            controller,
            "cancelTask",
            (task.address,),
            signer=net.other.private_key,
            context=f"Controller.cancelTask({task.address})",
        ).execute()


def test_load_contract_needs_an_address_for_instance_abis() -> None:
    with pytest.raises(ValidationError, match="TaskAbi"):
        load_contract("TaskAbi")


def test_revert_pattern_map_is_a_read_only_view_of_the_mapping() -> None:
    assert set(REVERT_PATTERN_MAP) == set(REVERT_REASONS)
    error = REVERT_PATTERN_MAP["InsufficientBalance"]("InsufficientBalance", "Vault", "0xabc")
    assert isinstance(error, OGPUError) and error.account == "0xabc"  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        REVERT_PATTERN_MAP["Custom"] = REVERT_PATTERN_MAP["NotOwner"]  # type: ignore[index]


def test_web3_compat_module_returns_the_cached_instances(net: Any) -> None:
    assert WEB3() is Web3Manager.get_web3_instance() is get_web3_for_chain(ChainId.OGPU_DEVNET)
    assert WEB3().eth.chain_id == ChainId.OGPU_DEVNET.value
