"""ogpu-devnet: a local OpenGPU network (chain, pinning service, provider runtime) for tests and demos."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu_devnet._version import __version__

if TYPE_CHECKING:
    from ogpu_devnet._devnet import Devnet

DEVNET_CHAIN_ID = 31071
"""The devnet's default chain id (``ChainId.OGPU_DEVNET``)."""

DEFAULT_CONTRACTS: dict[str, str] = {
    "NEXUS": "0x0165878A594ca255338adfa4d48449f69242Eb8F",
    "CONTROLLER": "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
    "TERMINAL": "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
    "VAULT": "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
    "MANAGER": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}
"""Where every fresh devnet deploys the protocol (account 0, nonces 0-7; any chain id)."""

__all__ = ["DEFAULT_CONTRACTS", "DEVNET_CHAIN_ID", "Devnet", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy: importing ogpu_devnet (e.g. by the pytest plugin) must not load py-evm.
    if name == "Devnet":
        from ogpu_devnet._devnet import Devnet

        return Devnet
    raise AttributeError(f"module 'ogpu_devnet' has no attribute {name!r}")
