"""The devnet's py-evm boundary: the only package that imports py-evm, eth-tester or ``rlp``.

:class:`Engine` builds the chain (:mod:`._backend`), executes, mines, calls and reads it
(:mod:`._engine`), turns py-evm's blocks, transactions and receipts into
:mod:`ogpu_devnet._records` (:mod:`._serializers`) and py-evm's failures into
:mod:`ogpu_devnet.errors` (:mod:`._errors`). Importing it loads py-evm.
"""

from __future__ import annotations

from ogpu_devnet._evm._engine import Engine, Handle, contract_address

__all__ = ["Engine", "Handle", "contract_address"]
