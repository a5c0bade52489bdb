"""The py-evm chain itself: eth-tester's PyEVMBackend with the devnet's chain class and genesis."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Protocol

from eth.chains.base import MiningChain
from eth.db import get_db_backend
from eth.vm.forks.prague import PragueVM
from eth_keys.datatypes import PrivateKey
from eth_tester.backends.pyevm import main as pyevm_main
from eth_utils.address import to_canonical_address


class FundedAccount(Protocol):
    """What the genesis needs of a funded account."""

    @property
    def address(self) -> str: ...

    @property
    def private_key(self) -> str: ...


def use_fast_keccak() -> None:
    """Keccak through pysha3 unless ``ETH_HASH_BACKEND`` chooses.

    pysha3 (eth-tester[py-evm] installs it on CPython) takes ~3 us a hash, pycryptodome's
    (eth-hash's first choice when both exist) ~20 us; py-evm and the trie hash hundreds of times
    per block. Same function, same digests; ETH_HASH_BACKEND wins.
    """
    if os.environ.get("ETH_HASH_BACKEND"):
        return
    try:
        from eth_hash.auto import keccak as auto_keccak
        from eth_hash.backends import pysha3

        auto_keccak.hasher = pysha3.backend.keccak256  # type: ignore[assignment]
    except ImportError:  # PyPy or no pysha3: keep eth-hash's own choice
        pass


def build_backend(
    chain_id: int,
    genesis_timestamp: int,
    accounts: Sequence[FundedAccount],
    balance: int,
) -> Any:
    """A PyEVMBackend whose chain class carries ``chain_id`` and our genesis (``accounts``
    funded with ``balance`` wei each)."""
    use_fast_keccak()

    class OGPUDevnetChain(MiningChain):
        """Prague from genesis, constant gas limit, the devnet's chain id."""

        vm_configuration = ((0, PragueVM),)  # type: ignore[assignment]

        def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
            header_params["gas_limit"] = parent_header.gas_limit
            return super().create_header_from_parent(parent_header, **header_params)

        def get_transaction_builder(self) -> Any:
            return self.get_vm().get_transaction_builder()

    OGPUDevnetChain.chain_id = chain_id

    genesis_params = pyevm_main.get_default_genesis_params({"timestamp": genesis_timestamp})
    genesis_state = {
        to_canonical_address(acct.address): {
            "balance": balance,
            "storage": {},
            "code": b"",
            "nonce": 0,
        }
        for acct in accounts
    }
    keys = tuple(PrivateKey(bytes.fromhex(a.private_key[2:])) for a in accounts)

    class _Backend(pyevm_main.PyEVMBackend):  # type: ignore[misc]
        def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
            self.account_keys = keys
            self.chain = OGPUDevnetChain.from_genesis(
                get_db_backend(),
                genesis_params,
                genesis_state,  # type: ignore[arg-type]
            )

    return _Backend()
