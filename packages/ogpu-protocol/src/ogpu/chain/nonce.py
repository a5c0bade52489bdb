"""Thread-safe nonce management per (chain, address), and the nonce recovery tools.

Sending from one key in many threads: :meth:`NonceManager.hold` serialises the
sign-and-send step per address (receipts are awaited outside the lock), hands out
consecutive nonces from a cache seeded with the node's pending count, and only advances
the cache once a transaction was accepted, so a failed send leaves no gap.

Another process may send from the same key (the cache cannot see it): the executor reads the
node's pending count in the batch it sends anyway before signing and merges it with
:meth:`NonceSlot.observe` (the larger of the cache and the count wins; the cache never goes
backwards), so it does not sign at a nonce the node already holds a transaction for (which a
node would let a higher-fee transaction silently replace).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ogpu.chain._address import to_checksum
from ogpu.chain._rpc import RpcClient, hex_int
from ogpu.chain._send import send_replacement
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.chain.signer import resolve_signer
from ogpu.types.enums import Role
from ogpu.types.errors import InvalidSignerError, MissingSignerError, TxReceiptTimeoutError

__all__ = [
    "NonceManager",
    "NonceSlot",
    "clear_all_nonce_caches",
    "fix_nonce",
    "get_nonce_info",
    "reset_nonce_cache",
]

log = logging.getLogger("ogpu.chain.nonce")


@dataclass
class _Entry:
    lock: threading.Lock
    next_nonce: int | None = None
    #: Bumped whenever ``next_nonce`` is dropped: a pending count read before the lock was
    #: taken can only seed an empty cache if nothing was dropped since it was read.
    epoch: int = 0
    #: The JSON-RPC endpoint the cached nonce was learnt from: another endpoint for the same
    #: chain id (a restarted or different node, a devnet of the same id) starts afresh.
    rpc_url: str | None = None

    def drop(self) -> None:
        self.next_nonce = None
        self.epoch += 1


class NonceSlot:
    """The per-address nonce state while :meth:`NonceManager.hold` is held."""

    def __init__(self, entry: _Entry, address: str, client: RpcClient) -> None:
        self._entry = entry
        self.address = address
        self._client = client

    def current(self) -> int:
        """The nonce to use next (seeded from the node's pending count when unknown)."""
        if self._entry.next_nonce is None:
            self._entry.next_nonce = self.chain_pending()
        return self._entry.next_nonce

    def chain_pending(self) -> int:
        """The node's pending transaction count of the address."""
        return hex_int(self._client.request("eth_getTransactionCount", [self.address, "pending"]))

    def observe(self, pending: int, epoch: int) -> int:
        """Merge the node's pending count ``pending``, read (without the lock) while
        :meth:`NonceManager.epoch` was ``epoch``, into the cache; returns the nonce to use next.

        The result is the larger of the cache and ``pending``: the cache never goes backwards
        (threads of this process keep their consecutive nonces) and a nonce the node already
        counts (another process's pending transaction) is skipped. An empty cache is seeded
        with ``pending`` only if it was not dropped since the count was read (a drop follows a
        send whose fate is unknown, which the count may predate); otherwise it is re-read.
        """
        cached = self._entry.next_nonce
        if cached is not None:
            self._entry.next_nonce = max(cached, pending)
        elif epoch == self._entry.epoch:
            self._entry.next_nonce = pending
        else:
            self._entry.next_nonce = self.chain_pending()
        return self._entry.next_nonce

    def resync(self) -> int:
        """Re-read the node's pending count; keep the larger of it and the cache."""
        pending = self.chain_pending()
        cached = self._entry.next_nonce
        self._entry.next_nonce = pending if cached is None else max(pending, cached)
        return self._entry.next_nonce

    def commit(self, used: int) -> None:
        """Record that ``used`` was accepted by the node."""
        cached = self._entry.next_nonce or 0
        self._entry.next_nonce = max(cached, used + 1)

    def invalidate(self) -> None:
        """Forget the cached nonce (next use re-reads the node)."""
        self._entry.drop()


class NonceManager:
    """Process-wide nonce cache keyed by (chain id, address), valid for the RPC endpoint it was
    learnt from (a different endpoint for the chain starts from the node's pending count)."""

    _lock = threading.Lock()
    _entries: dict[tuple[int, str], _Entry] = {}

    @classmethod
    def _entry(cls, chain_id: int, address: str) -> _Entry:
        with cls._lock:
            key = (chain_id, address.lower())
            entry = cls._entries.get(key)
            if entry is None:
                entry = cls._entries[key] = _Entry(threading.Lock())
            return entry

    @classmethod
    @contextmanager
    def hold(cls, address: str, chain: ChainLike | int | None = None) -> Iterator[NonceSlot]:
        """Exclusive access to ``address``'s nonce on ``chain`` (for sign + send)."""
        handle = ChainConfig.resolve(chain)
        entry = cls._entry(handle.value, address)
        client = ChainConfig.rpc_client(handle)
        with entry.lock:
            if entry.rpc_url != client.url:
                # A nonce learnt from another node is no evidence about this one: signing
                # above its pending count would queue the transaction behind a gap for ever.
                if entry.rpc_url is not None:
                    entry.drop()
                entry.rpc_url = client.url
            yield NonceSlot(entry, to_checksum(address), client)

    @classmethod
    def epoch(cls, address: str, chain: ChainLike | int | None = None) -> int:
        """A counter bumped whenever ``address``'s cache is dropped (pass it, with a pending
        count read after it, to :meth:`NonceSlot.observe`). No I/O.

        It does not wait for a thread holding the address (:meth:`hold`, a send in flight):
        the first round trip of the next intent overlaps that send. Reading the counter
        without the lock is sound: a drop after the read changes the counter, so
        :meth:`NonceSlot.observe` re-reads the node rather than trusting a count that may
        predate the drop."""
        handle = ChainConfig.resolve(chain)
        entry = cls._entry(handle.value, address)
        url = ChainConfig.rpc_client(handle).url
        if entry.rpc_url == url:
            return entry.epoch  # one attribute read (atomic); drops happen under the lock
        with entry.lock:
            if entry.rpc_url != url:  # the endpoint changed: drop before the batch reads it
                if entry.rpc_url is not None:
                    entry.drop()
                entry.rpc_url = url
            return entry.epoch

    @classmethod
    def get_cached_nonce(cls, address: str, chain: ChainLike | int | None = None) -> int | None:
        """The cached next nonce, or None."""
        handle = ChainConfig.resolve(chain)
        with cls._lock:
            entry = cls._entries.get((handle.value, address.lower()))
            return None if entry is None else entry.next_nonce

    @classmethod
    def reset_nonce(cls, address: str, chain: ChainLike | int | None = None) -> None:
        """Drop the cache of one address."""
        handle = ChainConfig.resolve(chain)
        entry = cls._entry(handle.value, address)
        with entry.lock:
            entry.drop()

    @classmethod
    def clear_all(cls) -> None:
        """Drop every cached nonce (all chains, all addresses)."""
        with cls._lock:
            entries = list(cls._entries.values())
        for entry in entries:
            with entry.lock:
                entry.drop()


def _resolve_address(address: str | None, private_key: str | None) -> str:
    if address is not None:
        return to_checksum(address)
    return str(resolve_signer(private_key, Role.CLIENT).address)


def reset_nonce_cache(address: str | None = None, private_key: str | None = None) -> None:
    """Forget the SDK's cached nonce of an address (default: from ``private_key`` or
    ``CLIENT_PRIVATE_KEY``) on the current chain. No I/O."""
    addr = _resolve_address(address, private_key)
    NonceManager.reset_nonce(addr)
    log.info("nonce cache cleared for %s", addr)


def clear_all_nonce_caches() -> None:
    """Forget every cached nonce."""
    NonceManager.clear_all()


def get_nonce_info(address: str | None = None, private_key: str | None = None) -> dict[str, Any]:
    """Mined/pending nonce of an address on the current chain (one batched round trip) and
    the SDK's cached value: keys address, mined_nonce, pending_nonce, cached_nonce,
    has_pending, pending_count."""
    addr = _resolve_address(address, private_key)
    client = ChainConfig.rpc_client()
    mined_raw, pending_raw = client.batch(
        [
            ("eth_getTransactionCount", [addr, "latest"]),
            ("eth_getTransactionCount", [addr, "pending"]),
        ]
    )
    mined, pending = hex_int(mined_raw), hex_int(pending_raw)
    return {
        "address": addr,
        "mined_nonce": mined,
        "pending_nonce": pending,
        "cached_nonce": NonceManager.get_cached_nonce(addr),
        "has_pending": pending > mined,
        "pending_count": max(0, pending - mined),
    }


def fix_nonce(
    address: str | None = None, private_key: str | None = None, *, timeout: float = 60.0
) -> int:
    """Unstick an address: replace every pending transaction by a 0-value self-transfer at a
    higher fee, wait until they are mined, reset the cache and return the next free nonce.

    The key comes from ``private_key`` or ``CLIENT_PRIVATE_KEY``; it is only needed when
    something is pending. Costs gas for each replacement.
    """
    account = None
    if private_key is not None or address is None:
        account = resolve_signer(private_key, Role.CLIENT)
    addr = to_checksum(address) if address is not None else str(account.address)  # type: ignore[union-attr]
    if account is not None and str(account.address).lower() != addr.lower():
        raise InvalidSignerError("private_key does not belong to address")
    info = get_nonce_info(addr)
    mined, pending = info["mined_nonce"], info["pending_nonce"]
    if pending > mined:
        if account is None:
            raise MissingSignerError(Role.CLIENT)
        log.warning("%s has %d pending transaction(s); replacing them", addr, pending - mined)
        with NonceManager.hold(addr) as slot:
            for nonce in range(mined, pending):
                send_replacement(account, nonce)
            deadline = time.monotonic() + timeout
            client = ChainConfig.rpc_client()
            while hex_int(client.request("eth_getTransactionCount", [addr, "latest"])) < pending:
                if time.monotonic() > deadline:
                    raise TxReceiptTimeoutError(
                        f"replacements of nonces {mined}..{pending - 1}", timeout
                    )
                time.sleep(0.2)
            slot.invalidate()
    NonceManager.reset_nonce(addr)
    client = ChainConfig.rpc_client()
    return hex_int(client.request("eth_getTransactionCount", [addr, "pending"]))
