"""Chain selection: built-in OpenGPU chains, the local devnet and user-registered networks.

:class:`ChainConfig` is a class-level (process-wide, thread-safe) registry. Mainnet is the
default chain. Each chain has an RPC URL, the singleton contract addresses, the IPFS
publish/gateway endpoints (``None``: ``ogpu.ipfs``'s own configuration applies) and the ABI
set its contracts use.
"""

from __future__ import annotations

import importlib
import logging
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ogpu.chain._rpc import RpcClient, redact_url
from ogpu.types.errors import (
    ChainNotSupportedError,
    ConfigError,
    InvalidAddressError,
    InvalidArgumentTypeError,
    InvalidRpcUrlError,
    TxRpcError,
    ValidationError,
)

if TYPE_CHECKING:
    from web3 import Web3

__all__ = [
    "CHAIN_CONTRACTS",
    "CHAIN_RPC_URLS",
    "CONTRACT_NAMES",
    "ChainConfig",
    "ChainId",
    "ChainLike",
    "CustomChain",
]

log = logging.getLogger("ogpu.chain")


class ChainId(Enum):
    """The built-in chains (``.value`` is the EIP-155 chain id)."""

    OGPU_MAINNET = 1071
    OGPU_TESTNET = 200820172034
    OGPU_DEVNET = 31071


@dataclass(frozen=True)
class CustomChain:
    """A user-registered network (see :meth:`ChainConfig.register_chain`).

    Usable wherever a :class:`ChainId` is accepted; ``.value`` is the chain id, like ChainId's.
    """

    chain_id: int
    name: str = field(compare=False)

    @property
    def value(self) -> int:
        """The EIP-155 chain id."""
        return self.chain_id

    def __str__(self) -> str:
        return f"{self.name} ({self.chain_id})"


ChainLike = ChainId | CustomChain

#: The four singleton contracts every chain must name (MANAGER is optional).
CONTRACT_NAMES = ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")
_OPTIONAL_CONTRACTS = ("MANAGER",)

CHAIN_RPC_URLS: dict[ChainId, str] = {
    ChainId.OGPU_MAINNET: "https://mainnet-rpc.ogpuscan.io",
    ChainId.OGPU_TESTNET: "https://testnetrpc.ogpuscan.io",
    ChainId.OGPU_DEVNET: "http://127.0.0.1:8545",
}

#: The devnet's deterministic deployment (``ogpu-devnet serve``; the deployer is dev account 0).
DEVNET_CONTRACTS: dict[str, str] = {
    "NEXUS": "0x0165878A594ca255338adfa4d48449f69242Eb8F",
    "CONTROLLER": "0xa513E6E4b8f2a923D98304ec87F64353C4D5C853",
    "TERMINAL": "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
    "VAULT": "0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9",
    "MANAGER": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
}

CHAIN_CONTRACTS: dict[ChainId, dict[str, str]] = {
    ChainId.OGPU_MAINNET: {
        "NEXUS": "0x2b0cC6058313801D5feb184a539e3a0C5A87a6a1",
        "CONTROLLER": "0x8661F4B9c30e07A04d795A192478dfD905625a1D",
        "TERMINAL": "0xaEBC7b712D38Fc4d841f0732c21B8774339869D3",
        "VAULT": "0xa5c582254AA313528898311362bc698b041580cC",
    },
    ChainId.OGPU_TESTNET: {
        "NEXUS": "0xF87bb2f3edB991a998992f14d35fE142e6Bb50b1",
        "CONTROLLER": "0x9fb6022074Fd7Bdb429de0776eb693cA0CB55E09",
        "TERMINAL": "0x1ea332Fc14a5AFD3AF3852B45C263Ab5b1Dd6f52",
        "VAULT": "0x15905a2FbD3EF5d3532b931b5656BB9EB493Bb15",
    },
    ChainId.OGPU_DEVNET: DEVNET_CONTRACTS,
}

DEVNET_IPFS_PUBLISH_URL = "http://127.0.0.1:5001/file/create"
DEVNET_IPFS_GATEWAY_URL = "http://127.0.0.1:5001/ipfs"


@dataclass
class _Spec:
    chain: ChainLike
    default_rpc: str
    rpc: str
    contracts: dict[str, str]
    ipfs_publish_url: str | None
    ipfs_gateway_url: str | None
    abi_set: str


def _builtin_specs() -> dict[int, _Spec]:
    specs: dict[int, _Spec] = {}
    for chain in ChainId:
        devnet = chain is ChainId.OGPU_DEVNET
        specs[chain.value] = _Spec(
            chain=chain,
            default_rpc=CHAIN_RPC_URLS[chain],
            rpc=CHAIN_RPC_URLS[chain],
            contracts=dict(CHAIN_CONTRACTS[chain]),
            ipfs_publish_url=DEVNET_IPFS_PUBLISH_URL if devnet else None,
            ipfs_gateway_url=DEVNET_IPFS_GATEWAY_URL if devnet else None,
            abi_set="testnet" if chain is ChainId.OGPU_TESTNET else "mainnet",
        )
    return specs


def _check_url(url: object, what: str = "RPC URL") -> str:
    if not isinstance(url, str):
        raise InvalidArgumentTypeError(what, "a str", type(url).__name__)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        if what != "RPC URL":  # an IPFS endpoint is no "RPC endpoint": name the argument
            raise ValidationError(f"{what} must be an http(s) URL, got {redact_url(url)!r}")
        raise InvalidRpcUrlError(redact_url(url), "expected an http(s) URL")
    return url


def _check_contracts(contracts: object) -> dict[str, str]:
    from ogpu.chain._address import to_checksum

    if not isinstance(contracts, dict):
        raise InvalidArgumentTypeError(
            "contracts", "a dict of name -> address", type(contracts).__name__
        )
    out: dict[str, str] = {}
    for name, address in contracts.items():
        key = str(name).upper()
        if key not in CONTRACT_NAMES + _OPTIONAL_CONTRACTS:
            raise ValidationError(
                f"unknown contract name {name!r}; expected one of {CONTRACT_NAMES}"
            )
        out[key] = to_checksum(address, argument=f"contracts[{key}]")
    missing = [n for n in CONTRACT_NAMES if n not in out]
    if missing:
        raise ValidationError(f"contracts is missing {', '.join(missing)}")
    return out


class ChainConfig:
    """Process-wide chain configuration (class-level API; never instantiated)."""

    _lock = threading.RLock()
    _specs: dict[int, _Spec] = _builtin_specs()
    _current: ChainLike = ChainId.OGPU_MAINNET
    _clients: dict[tuple[int, str], RpcClient] = {}
    _web3: dict[int, Web3] = {}

    # ------------------------------------------------------------------ chain selection

    @classmethod
    def _spec(cls, chain: ChainLike | int | None = None) -> _Spec:
        with cls._lock:
            if chain is None:
                chain = cls._current
            if isinstance(chain, (ChainId, CustomChain)):
                key = chain.value
            elif isinstance(chain, int) and not isinstance(chain, bool):
                key = chain
            else:
                raise ChainNotSupportedError(chain)
            spec = cls._specs.get(key)
            if spec is None or (isinstance(chain, CustomChain) and spec.chain != chain):
                raise ChainNotSupportedError(chain)
            return spec

    @classmethod
    def resolve(cls, chain: ChainLike | int | None = None) -> ChainLike:
        """The chain handle for ``chain`` (None: the current chain; an int: looked up)."""
        return cls._spec(chain).chain

    @classmethod
    def set_chain(cls, chain_id: ChainLike | int) -> None:
        """Make ``chain_id`` the current chain (ChainId, a registered chain, or its int id)."""
        spec = cls._spec(chain_id)
        with cls._lock:
            cls._current = spec.chain
        log.debug("current chain set to %s", spec.chain)

    @classmethod
    def get_current_chain(cls) -> ChainLike:
        """The current chain (mainnet unless changed)."""
        with cls._lock:
            return cls._current

    @classmethod
    def get_all_supported_chains(cls) -> list[ChainLike]:
        """Built-in and registered chains."""
        with cls._lock:
            return [spec.chain for spec in cls._specs.values()]

    @classmethod
    def register_chain(
        cls,
        chain_id: int,
        name: str,
        rpc_url: str,
        contracts: dict[str, str],
        ipfs_publish_url: str | None = None,
        ipfs_gateway_url: str | None = None,
        *,
        abi_set: str = "mainnet",
    ) -> CustomChain:
        """Register any EVM network running the OpenGPU contracts (an anvil fork, a private net).

        ``contracts`` names NEXUS, CONTROLLER, TERMINAL and VAULT (MANAGER optional). IPFS
        endpoints default to ``ogpu.ipfs``'s configuration. Re-registering a chain id replaces
        it. Returns the handle to pass to :meth:`set_chain` or ``chain=`` arguments.
        """
        if not isinstance(chain_id, int) or isinstance(chain_id, bool) or chain_id <= 0:
            raise InvalidArgumentTypeError("chain_id", "a positive int", repr(chain_id))
        if any(chain_id == c.value for c in ChainId):
            raise ConfigError(f"chain id {chain_id} is a built-in chain; use ChainConfig.configure")
        if not isinstance(name, str) or not name:
            raise InvalidArgumentTypeError("name", "a non-empty str", repr(name))
        _check_url(rpc_url)
        checked = _check_contracts(contracts)
        for url, what in (
            (ipfs_publish_url, "ipfs_publish_url"),
            (ipfs_gateway_url, "ipfs_gateway_url"),
        ):
            if url is not None:
                _check_url(url, what)
        if abi_set not in ("mainnet", "testnet"):
            raise ValidationError(f"abi_set must be 'mainnet' or 'testnet', got {abi_set!r}")
        handle = CustomChain(chain_id, name)
        with cls._lock:
            cls._specs[chain_id] = _Spec(
                handle, rpc_url, rpc_url, checked, ipfs_publish_url, ipfs_gateway_url, abi_set
            )
            cls._drop_connections(chain_id)
        return handle

    @classmethod
    def unregister_chain(cls, chain: CustomChain | int) -> None:
        """Forget a registered chain (the current chain falls back to mainnet)."""
        spec = cls._spec(chain)
        if isinstance(spec.chain, ChainId):
            raise ConfigError("built-in chains cannot be unregistered")
        with cls._lock:
            del cls._specs[spec.chain.value]
            cls._drop_connections(spec.chain.value)
            if cls._current == spec.chain:
                cls._current = ChainId.OGPU_MAINNET

    @classmethod
    def configure(
        cls,
        chain: ChainLike | int | None = None,
        *,
        rpc_url: str | None = None,
        contracts: dict[str, str] | None = None,
        ipfs_publish_url: str | None = None,
        ipfs_gateway_url: str | None = None,
        check: bool = False,
    ) -> None:
        """Override parts of a chain's configuration (e.g. a devnet on other ports).

        ``check=True`` probes ``rpc_url`` like :meth:`set_rpc`.
        """
        spec = cls._spec(chain)
        checked_contracts = _check_contracts({**spec.contracts, **contracts}) if contracts else None
        if rpc_url is not None:
            _check_url(rpc_url)
            if check:
                cls._probe(rpc_url)
        for url, what in (
            (ipfs_publish_url, "ipfs_publish_url"),
            (ipfs_gateway_url, "ipfs_gateway_url"),
        ):
            if url is not None:
                _check_url(url, what)
        with cls._lock:
            if rpc_url is not None:
                spec.rpc = rpc_url
                cls._drop_connections(spec.chain.value)
            if checked_contracts is not None:
                spec.contracts = checked_contracts
            if ipfs_publish_url is not None:
                spec.ipfs_publish_url = ipfs_publish_url
            if ipfs_gateway_url is not None:
                spec.ipfs_gateway_url = ipfs_gateway_url

    # ------------------------------------------------------------------ contracts and ABIs

    @classmethod
    def get_contract_address(cls, contract_name: str, chain: ChainLike | int | None = None) -> str:
        """Checksummed address of a singleton (NEXUS, CONTROLLER, TERMINAL, VAULT, MANAGER)."""
        if not isinstance(contract_name, str):
            raise InvalidArgumentTypeError("contract_name", "a str", type(contract_name).__name__)
        spec = cls._spec(chain)
        address = spec.contracts.get(contract_name.upper())
        if address is None:
            raise ValidationError(
                f"contract {contract_name!r} is not configured for chain {spec.chain}"
            )
        return address

    @classmethod
    def get_abi_set(cls, chain: ChainLike | int | None = None) -> str:
        """Name of the bundled ABI set a chain uses ("mainnet" or "testnet")."""
        return cls._spec(chain).abi_set

    @classmethod
    def get_chain_abi_directory(cls, chain: ChainLike | int | None = None) -> str:
        """Filesystem path of the bundled ABI directory for a chain."""
        return str(_protocol_abi().abi_directory(cls._spec(chain).abi_set))

    @classmethod
    def load_abi(cls, abi_name: str, chain: ChainLike | int | None = None) -> list[dict[str, Any]]:
        """A bundled ABI, e.g. ``load_abi("NexusAbi")`` or ``load_abi("Nexus")``."""
        return list(_protocol_abi().load_bundled_abi(cls._spec(chain).abi_set, abi_name))

    # ------------------------------------------------------------------ IPFS endpoints

    @classmethod
    def get_ipfs_publish_url(cls, chain: ChainLike | int | None = None) -> str | None:
        """The chain's pinning endpoint (None: ``ogpu.ipfs``'s configured default)."""
        return cls._spec(chain).ipfs_publish_url

    @classmethod
    def get_ipfs_gateway_url(cls, chain: ChainLike | int | None = None) -> str | None:
        """The chain's trusted gateway (None: ``ogpu.ipfs``'s configured default)."""
        return cls._spec(chain).ipfs_gateway_url

    # ------------------------------------------------------------------ RPC

    @classmethod
    def _probe(cls, url: str) -> int:
        client = RpcClient(url, timeout=10.0)
        try:
            return int(client.request("eth_chainId", []), 16)
        except (TxRpcError, ValueError, TypeError) as exc:
            raise InvalidRpcUrlError(redact_url(url), str(exc)) from None
        finally:
            client.close()

    @classmethod
    def set_rpc(cls, url: str, chain: ChainLike | int | None = None) -> None:
        """Point a chain (default: current) at ``url`` after checking the node answers.

        Raises :class:`InvalidRpcUrlError` (leaving the old URL) when it does not. Cached
        connections and Web3 instances of the chain are dropped.
        """
        spec = cls._spec(chain)
        _check_url(url)
        node_chain_id = cls._probe(url)
        if node_chain_id != spec.chain.value:
            log.warning(
                "RPC %s reports chain id %d, configured chain is %s",
                redact_url(url),
                node_chain_id,
                spec.chain,
            )
        with cls._lock:
            spec.rpc = url
            cls._drop_connections(spec.chain.value)
        log.debug("RPC of %s set to %s", spec.chain, redact_url(url))

    @classmethod
    def get_rpc(cls, chain: ChainLike | int | None = None) -> str:
        """The RPC URL in use for a chain (default: current)."""
        return cls._spec(chain).rpc

    @classmethod
    def reset_rpc(cls, chain: ChainLike | int | None = None) -> None:
        """Restore a chain's default RPC URL."""
        spec = cls._spec(chain)
        with cls._lock:
            spec.rpc = spec.default_rpc
            cls._drop_connections(spec.chain.value)

    @classmethod
    def _drop_connections(cls, chain_id: int) -> None:
        with cls._lock:
            for key in [k for k in cls._clients if k[0] == chain_id]:
                cls._clients.pop(key).close()
            cls._web3.pop(chain_id, None)

    @classmethod
    def rpc_client(cls, chain: ChainLike | int | None = None) -> RpcClient:
        """The pooled JSON-RPC client of a chain (cached; dropped on set_rpc)."""
        spec = cls._spec(chain)
        with cls._lock:
            key = (spec.chain.value, spec.rpc)
            client = cls._clients.get(key)
            if client is None:
                client = cls._clients[key] = RpcClient(spec.rpc)
            return client

    @classmethod
    def get_web3(cls, chain: ChainLike | int | None = None) -> Web3:
        """A Web3 instance for a chain, sharing the chain's pooled HTTP session (cached).

        Its provider keeps the RPC URL's secrets (userinfo, query values, key-like path
        segments such as Infura's ``/v3/<key>``) out of its ``endpoint_uri``, ``str``/``repr``,
        web3.py's and urllib3's log records and the messages of the ``requests`` errors it
        raises (same types, without ``request``/``response``, which quote the URL); requests
        still go to the real URL.
        """
        spec = cls._spec(chain)
        with cls._lock:
            w3 = cls._web3.get(spec.chain.value)
            if w3 is None:
                from ogpu.chain._web3 import RedactingHTTPProvider
                from web3 import Web3

                session = cls.rpc_client(spec.chain).session
                w3 = Web3(RedactingHTTPProvider(spec.rpc, session=session))
                cls._web3[spec.chain.value] = w3
            return w3


def _protocol_abi() -> Any:
    """:mod:`ogpu.protocol._abi`, resolved at call time: the ABI files and their loader belong
    to the protocol layer, which imports this module (the one upward reference of
    ``ogpu.chain``, for the 0.2.3 accessors :meth:`ChainConfig.load_abi` and
    :meth:`ChainConfig.get_chain_abi_directory`; allow-listed in tests/test_repo_hygiene.py)."""
    return importlib.import_module("ogpu.protocol._abi")


# Re-exported for the error messages of address checks made here.
_ = InvalidAddressError
