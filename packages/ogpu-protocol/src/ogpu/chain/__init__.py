"""Chain configuration, connections, signers and nonce management of the OpenGPU SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogpu.chain._address import ZERO_ADDRESS, check_amount, to_checksum
from ogpu.chain.config import (
    CHAIN_CONTRACTS,
    CHAIN_RPC_URLS,
    ChainConfig,
    ChainId,
    ChainLike,
    CustomChain,
)
from ogpu.chain.nonce import (
    NonceManager,
    clear_all_nonce_caches,
    fix_nonce,
    get_nonce_info,
    reset_nonce_cache,
)
from ogpu.chain.signer import Signer, resolve_signer

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "CHAIN_CONTRACTS",
    "CHAIN_RPC_URLS",
    "WEB3",
    "ZERO_ADDRESS",
    "ChainConfig",
    "ChainId",
    "ChainLike",
    "CustomChain",
    "NonceManager",
    "Signer",
    "Web3Manager",
    "check_amount",
    "clear_all_nonce_caches",
    "fix_nonce",
    "get_nonce_info",
    "get_web3_for_chain",
    "reset_nonce_cache",
    "resolve_signer",
    "to_checksum",
]


class Web3Manager:
    """Compatibility facade: cached Web3 instances per chain."""

    @classmethod
    def get_web3_instance(cls, chain_id: ChainLike | None = None) -> Web3:
        """The cached Web3 of a chain (default: current)."""
        return ChainConfig.get_web3(chain_id)

    @classmethod
    def update_rpc_url(cls, chain_id: ChainLike, rpc_url: str) -> None:
        """Same as ``ChainConfig.set_rpc(rpc_url, chain_id)``."""
        ChainConfig.set_rpc(rpc_url, chain_id)


def WEB3() -> Web3:
    """The Web3 instance of the current chain."""
    return ChainConfig.get_web3()


def get_web3_for_chain(chain_id: ChainLike) -> Web3:
    """The Web3 instance of ``chain_id``."""
    return ChainConfig.get_web3(chain_id)
