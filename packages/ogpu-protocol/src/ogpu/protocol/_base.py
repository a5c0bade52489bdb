"""Shared plumbing of the protocol modules: singleton lookup, views, writes, follow-up reads."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ogpu.chain._address import to_checksum
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.chain.signer import resolve_signer
from ogpu.protocol import _abi
from ogpu.protocol._reads import Call, read, read_many
from ogpu.protocol._revert import RevertContext
from ogpu.protocol._tx import transact
from ogpu.types.enums import Role
from ogpu.types.errors import InvalidArgumentTypeError
from ogpu.types.receipt import Receipt

__all__ = ["singleton", "vault_lookups", "view", "write"]

ChainArg = ChainLike | int | None


def singleton(name: str, chain: ChainArg) -> str:
    """Address of a singleton contract on ``chain``."""
    return ChainConfig.get_contract_address(name, chain)


def view(
    contract: str, name: str, *args: Any, chain: ChainArg = None, to: str | None = None
) -> Any:
    """One read of a singleton (or of ``to``); raises typed errors on failure."""
    address = to or singleton(contract.upper(), chain)
    return read([Call(address, contract, name, args)], chain)[0]


def write(
    contract: str,
    name: str,
    args: tuple[Any, ...],
    *,
    signer: Any,
    role: Role | None,
    ctx: Callable[[str], RevertContext],
    chain: ChainArg = None,
    to: str | None = None,
    value: int = 0,
    receipt_timeout: float = 120.0,
    deadline: float | None = None,
    budget: float | None = None,
    before_send: Callable[[], None] | None = None,
    check_time: Callable[[int], None] | None = None,
) -> Receipt:
    """Resolve the signer, encode ``contract.name(*args)`` and execute it.

    ``ctx`` builds the revert context from the sender address; ``before_send`` and
    ``check_time`` are :func:`ogpu.chain.tx.transact`'s last checks before signing.
    """
    account = resolve_signer(signer, role)
    handle = ChainConfig.resolve(chain)
    address = to or singleton(contract.upper(), handle)
    data = _abi.fn(ChainConfig.get_abi_set(handle), contract, name).encode(*args)
    return transact(
        to=address,
        data=data,
        signer=account,
        ctx=ctx(str(account.address)),
        chain=handle,
        value=value,
        receipt_timeout=receipt_timeout,
        deadline=deadline,
        budget=budget,
        before_send=before_send,
        check_time=check_time,
    )


def vault_lookups(chain: ChainArg, account: str) -> dict[str, Callable[[], Any]]:
    """Follow-up reads of ``account``'s Vault state for revert mapping."""
    vault = singleton("VAULT", chain)

    def balance() -> int:
        return int(read([Call(vault, "Vault", "balanceOf", (account,))], chain)[0])

    def lockup() -> int:
        return int(read([Call(vault, "Vault", "lockupOf", (account,))], chain)[0])

    def remaining() -> int:
        values, extra = read_many(
            [Call(vault, "Vault", "unbondingTimestamp", (account,))],
            chain,
            extra=[("eth_getBlockByNumber", ["latest", False])],
        )
        block = extra[0]
        now = int(block["timestamp"], 16) if isinstance(block, dict) else int(time.time())
        return max(0, int(values[0]) - now)

    return {"balance": balance, "lockup": lockup, "remaining": remaining}


def check_bool(value: Any, argument: str) -> bool:
    """Validate a bool argument."""
    if not isinstance(value, bool):
        raise InvalidArgumentTypeError(argument, "a bool", type(value).__name__)
    return value


def addr(value: Any, argument: str) -> str:
    """Validate an address argument (checksummed result)."""
    return to_checksum(value, argument=argument)
