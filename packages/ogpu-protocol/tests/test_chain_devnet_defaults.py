"""ChainId.OGPU_DEVNET defaults match the devnet (`ogpu-devnet serve`)."""

from __future__ import annotations

from typing import Any

from ogpu.chain import ChainConfig, ChainId


def test_devnet_defaults_match_manifest(devnet: Any) -> None:
    manifest = devnet.manifest()
    assert manifest["chain_id"] == ChainId.OGPU_DEVNET.value
    for name, address in manifest["contracts"].items():
        assert ChainConfig.get_contract_address(name, ChainId.OGPU_DEVNET) == address
    from ogpu.chain.config import DEVNET_CONTRACTS

    assert set(DEVNET_CONTRACTS) == set(manifest["contracts"])
