"""Where the watchers read the network from: the current chain of :class:`ogpu.chain.ChainConfig`."""

from __future__ import annotations

from typing import Any, cast

from eth_typing import ChecksumAddress
from ogpu.chain import ChainConfig, to_checksum


def nexus_address() -> ChecksumAddress:
    """The Nexus of the current chain: every protocol event is emitted there."""
    return cast(ChecksumAddress, ChainConfig.get_contract_address("NEXUS"))


def checksum(value: Any) -> ChecksumAddress:
    """Validate ``value`` (an address or an object with ``.address``); EIP-55 form."""
    return cast(ChecksumAddress, to_checksum(value))
