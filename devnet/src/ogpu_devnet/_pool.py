"""The transaction pool: transactions waiting for a block, and future nonces waiting for a gap.

Two sets, as geth's txpool keeps them:

- *pending*: with auto-mining off, the executable transactions waiting for the next mined
  block, in arrival order;
- *queued*: transactions whose nonce is above the sender's next one, by sender and nonce,
  bounded by :data:`MAX_QUEUED_PER_SENDER` and :data:`MAX_QUEUED_TOTAL`.

A transaction reusing the nonce of a waiting one from the same sender replaces it, in its
place, only if it raises both fee caps by :data:`REPLACEMENT_PRICE_BUMP` percent (geth's rule).
The pool holds no chain: the sender's next nonce and balance come from the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_utils.address import to_checksum_address

from ogpu_devnet._records import TxRecord
from ogpu_devnet.errors import TransactionRejectedError

__all__ = [
    "MAX_QUEUED_PER_SENDER",
    "MAX_QUEUED_TOTAL",
    "REPLACEMENT_PRICE_BUMP",
    "PooledTx",
    "TxPool",
    "check_replacement_fees",
    "fee_cap",
    "tip_cap",
]

REPLACEMENT_PRICE_BUMP = 10
"""Percent by which a replacement must raise both fee caps (geth's and anvil's default)."""
MAX_QUEUED_PER_SENDER = 64
"""Future-nonce transactions one sender may keep queued (geth's ``--txpool.accountqueue``)."""
MAX_QUEUED_TOTAL = 1024
"""Future-nonce transactions all senders together may keep queued (geth's
``--txpool.globalqueue``)."""


def fee_cap(tx: TxRecord) -> int:
    """The most a transaction pays per gas (``maxFeePerGas``; ``gasPrice`` for legacy)."""
    return tx.max_fee_per_gas


def tip_cap(tx: TxRecord) -> int:
    """A transaction's priority fee cap (``maxPriorityFeePerGas``; ``gasPrice`` for legacy)."""
    return tx.max_priority_fee_per_gas


def check_replacement_fees(old: TxRecord, new: TxRecord) -> None:
    """Refuse ``new`` as a replacement of the pooled ``old`` (same sender and nonce) unless it
    raises both the fee cap and the tip cap by at least :data:`REPLACEMENT_PRICE_BUMP` percent.

    geth's txpool rule: both caps strictly higher, and each at least ``old * 110 // 100``
    (legacy transactions use ``gasPrice`` for both caps, so the types may be mixed).
    """
    bump = 100 + REPLACEMENT_PRICE_BUMP
    for old_cap, new_cap in ((fee_cap(old), fee_cap(new)), (tip_cap(old), tip_cap(new))):
        if new_cap <= old_cap or new_cap < old_cap * bump // 100:
            raise TransactionRejectedError("replacement transaction underpriced")


@dataclass(frozen=True, slots=True)
class PooledTx:
    """A waiting transaction: its signed bytes (journaled once mined), its record, and the
    engine's handle to execute it by (opaque here)."""

    raw: bytes
    tx: TxRecord
    handle: Any


class TxPool:
    """Pending and queued transactions. ``balance_of(sender)`` is the balance a transaction
    is checked against (``gas * fee cap + value``) when it enters."""

    def __init__(self, balance_of: Callable[[bytes], int]) -> None:
        self._balance_of = balance_of
        self.pending: list[PooledTx] = []
        self.queued: dict[bytes, dict[int, PooledTx]] = {}

    def check_funds(self, tx: TxRecord) -> None:
        """Refuse a transaction its sender cannot pay for at its fee cap."""
        if tx.gas * fee_cap(tx) + tx.value > self._balance_of(tx.sender):
            raise TransactionRejectedError("insufficient funds for gas * price + value")

    def pending_count(self, sender: bytes) -> int:
        """How many of the sender's transactions are pending."""
        return sum(1 for p in self.pending if p.tx.sender == sender)

    def is_queued(self, sender: bytes, nonce: int) -> bool:
        """Whether a transaction of the sender waits queued at ``nonce``."""
        return nonce in self.queued.get(sender, {})

    def find(self, tx_hash: bytes) -> TxRecord | None:
        """A pending or queued transaction by hash, or None."""
        for pooled in self.pending:
            if pooled.tx.hash == tx_hash:
                return pooled.tx
        for queued in self.queued.values():
            for pooled in queued.values():
                if pooled.tx.hash == tx_hash:
                    return pooled.tx
        return None

    def queued_transactions(self) -> list[TxRecord]:
        """The queued transactions by sender and nonce."""
        return [q[n].tx for q in self.queued.values() for n in sorted(q)]

    def queue(self, entry: PooledTx) -> None:
        """Keep a future-nonce transaction (or replace a queued one at its nonce)."""
        tx = entry.tx
        queued = self.queued.get(tx.sender, {})
        old = queued.get(tx.nonce)
        if old is not None:
            if old.tx.hash == tx.hash:
                raise TransactionRejectedError("already known")
            check_replacement_fees(old.tx, tx)
        elif len(queued) >= MAX_QUEUED_PER_SENDER:
            raise TransactionRejectedError(
                f"txpool is full: {MAX_QUEUED_PER_SENDER} future-nonce transactions already "
                f"queued for {to_checksum_address(tx.sender)} (fill the nonce gap first)"
            )
        elif sum(len(q) for q in self.queued.values()) >= MAX_QUEUED_TOTAL:
            raise TransactionRejectedError(
                f"txpool is full: {MAX_QUEUED_TOTAL} future-nonce transactions already queued"
            )
        self.check_funds(tx)
        self.queued.setdefault(tx.sender, {})[tx.nonce] = entry

    def add(self, entry: PooledTx, next_nonce: int) -> bool:
        """Add a transaction with auto-mining off; ``next_nonce`` is the sender's pending nonce
        (mined transactions plus pending ones). A future nonce is queued; one reusing a pending
        transaction's nonce replaces it in its place. True if it was appended as pending (the
        caller then promotes the sender's queued transactions)."""
        tx = entry.tx
        if any(pooled.tx.hash == tx.hash for pooled in self.pending):
            raise TransactionRejectedError("already known")
        slot = next(
            (
                i
                for i, pooled in enumerate(self.pending)
                if pooled.tx.sender == tx.sender and pooled.tx.nonce == tx.nonce
            ),
            None,
        )
        if slot is None:
            if tx.nonce > next_nonce or self.is_queued(tx.sender, tx.nonce):
                self.queue(entry)
                return False
            if tx.nonce < next_nonce:
                raise TransactionRejectedError(
                    f"nonce too low: next pending nonce {next_nonce}, tx nonce {tx.nonce}"
                )
        else:
            check_replacement_fees(self.pending[slot].tx, tx)
        self.check_funds(tx)
        if slot is None:
            self.pending.append(entry)
            return True
        self.pending[slot] = entry  # the replacement takes the pooled transaction's place
        return False

    def pop_ready(self, sender: bytes, next_nonce: int) -> PooledTx | None:
        """The sender's queued transaction at ``next_nonce``, taken out of the queue (ones
        below it are stale and dropped); None if the gap is not filled."""
        queued = self.queued.get(sender)
        if not queued:
            return None
        for stale in [n for n in queued if n < next_nonce]:
            del queued[stale]
        entry = queued.pop(next_nonce, None)
        if not queued:
            self.queued.pop(sender, None)
        return entry

    def has_queued(self, sender: bytes) -> bool:
        """Whether the sender has queued transactions."""
        return bool(self.queued.get(sender))

    def take_pending(self) -> list[PooledTx]:
        """Empty the pending set, returning what it held in order."""
        pending, self.pending = self.pending, []
        return pending

    def clear(self) -> None:
        """Forget everything (a revert: nonces and funds belong to an abandoned chain)."""
        self.pending = []
        self.queued = {}
