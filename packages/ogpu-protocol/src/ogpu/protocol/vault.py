"""Vault: balances, lockup, unbonding, earnings. Writes require an explicit ``signer=``."""

from __future__ import annotations

from ogpu.chain._address import check_amount
from ogpu.chain.signer import Signer
from ogpu.protocol._base import ChainArg, addr, vault_lookups, view, write
from ogpu.protocol._revert import RevertContext
from ogpu.types.receipt import Receipt

__all__ = [
    "cancel_unbonding",
    "claim",
    "deposit",
    "get_balance_of",
    "get_frozen_payment",
    "get_lockup_of",
    "get_min_lockup_per_source",
    "get_sanction_of",
    "get_total_earnings_of",
    "get_unbonding_of",
    "get_unbonding_period",
    "get_unbonding_timestamp",
    "is_eligible",
    "is_whitelisted",
    "lock",
    "unbond",
    "withdraw",
]


def _write(
    name: str,
    args: tuple[object, ...],
    signer: Signer,
    chain: ChainArg,
    *,
    required: int | None = None,
    value: int = 0,
) -> Receipt:
    def ctx(caller: str) -> RevertContext:
        return RevertContext(
            f"Vault.{name}",
            caller,
            account=caller,
            required=required,
            lookups=vault_lookups(chain, caller),
        )

    return write("Vault", name, args, signer=signer, role=None, chain=chain, ctx=ctx, value=value)


def deposit(account: str, amount: int, *, signer: Signer, chain: ChainArg = None) -> Receipt:
    """``Vault.deposit(account)`` paying ``amount`` wei (anyone may fund any account)."""
    target = addr(account, "account")
    value = check_amount(amount)
    return _write("deposit", (target,), signer, chain, value=value)


def withdraw(amount: int, *, signer: Signer, chain: ChainArg = None) -> Receipt:
    """``Vault.withdraw(amount)`` from the signer's liquid balance."""
    value = check_amount(amount)
    return _write("withdraw", (value,), signer, chain, required=value)


def lock(amount: int, *, signer: Signer, chain: ChainArg = None) -> Receipt:
    """``Vault.lock(amount)``: liquid balance -> lockup."""
    value = check_amount(amount)
    return _write("lock", (value,), signer, chain, required=value)


def unbond(amount: int, *, signer: Signer, chain: ChainArg = None) -> Receipt:
    """``Vault.unbond(amount)``: lockup -> unbonding (matures after the unbonding period)."""
    value = check_amount(amount)
    return _write("unbond", (value,), signer, chain, required=value)


def cancel_unbonding(*, signer: Signer, chain: ChainArg = None) -> Receipt:
    """``Vault.cancelUnbonding()`` (mainnet ABI): unbonding -> lockup."""
    return _write("cancelUnbonding", (), signer, chain)


def claim(*, signer: Signer, chain: ChainArg = None) -> Receipt:
    """``Vault.claim()``: matured unbonding -> liquid balance."""
    return _write("claim", (), signer, chain)


def _uint(name: str, address: str, chain: ChainArg) -> int:
    return int(view("Vault", name, addr(address, "address"), chain=chain))


def get_balance_of(address: str, *, chain: ChainArg = None) -> int:
    """Liquid balance (``Vault.balanceOf``)."""
    return _uint("balanceOf", address, chain)


def get_lockup_of(address: str, *, chain: ChainArg = None) -> int:
    """Locked amount (``Vault.lockupOf``)."""
    return _uint("lockupOf", address, chain)


def get_unbonding_of(address: str, *, chain: ChainArg = None) -> int:
    """Unbonding amount (``Vault.unbondingOf``)."""
    return _uint("unbondingOf", address, chain)


def get_unbonding_timestamp(address: str, *, chain: ChainArg = None) -> int:
    """When the unbonding matures (``Vault.unbondingTimestamp``)."""
    return _uint("unbondingTimestamp", address, chain)


def get_total_earnings_of(address: str, *, chain: ChainArg = None) -> int:
    """Lifetime earnings (``Vault.totalEarningsOf``)."""
    return _uint("totalEarningsOf", address, chain)


def get_frozen_payment(address: str, *, chain: ChainArg = None) -> int:
    """Total escrowed for a client (``Vault.frozenPayment``)."""
    return _uint("frozenPayment", address, chain)


def get_sanction_of(address: str, *, chain: ChainArg = None) -> int:
    """Sanctioned amount (``Vault.sanctionOf``)."""
    return _uint("sanctionOf", address, chain)


def is_eligible(address: str, *, chain: ChainArg = None) -> bool:
    """``Vault.isEligible``."""
    return bool(view("Vault", "isEligible", addr(address, "address"), chain=chain))


def is_whitelisted(address: str, *, chain: ChainArg = None) -> bool:
    """``Vault.isWhitelisted``."""
    return bool(view("Vault", "isWhitelisted", addr(address, "address"), chain=chain))


def get_min_lockup_per_source(*, chain: ChainArg = None) -> int:
    """``Vault.MIN_LOCKUP_PER_SOURCE``."""
    return int(view("Vault", "MIN_LOCKUP_PER_SOURCE", chain=chain))


def get_unbonding_period(*, chain: ChainArg = None) -> int:
    """``Vault.UNBONDING_PERIOD`` in seconds."""
    return int(view("Vault", "UNBONDING_PERIOD", chain=chain))
