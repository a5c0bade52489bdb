"""The chain's typed records: what :class:`~ogpu_devnet.chain.DevnetChain` hands out.

Plain frozen values built at the py-evm boundary (:mod:`ogpu_devnet._evm`), so nothing above
it (the JSON-RPC server, the JSON shapes, the pool) touches a py-evm object. Field names follow
py-evm's and geth's (``base_fee_per_gas``, ``max_fee_per_gas``...).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BlockRecord",
    "CallParams",
    "HeaderRecord",
    "LogEntry",
    "LogFilter",
    "ReceiptRecord",
    "TxRecord",
]


@dataclass(frozen=True, slots=True)
class TxRecord:
    """A signed transaction (mined, pooled or queued).

    ``max_fee_per_gas`` and ``max_priority_fee_per_gas`` are the fee caps of every type (for
    legacy and access-list transactions both are their ``gas_price``, as in py-evm);
    ``gas_price`` is None for dynamic-fee types (2 and up). ``chain_id`` is None for a legacy
    transaction signed without one (pre EIP-155); ``y_parity`` of a legacy one comes from ``v``.
    """

    hash: bytes
    type_id: int
    sender: bytes
    nonce: int
    to: bytes
    value: int
    gas: int
    data: bytes
    gas_price: int | None
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    chain_id: int | None
    access_list: tuple[tuple[bytes, tuple[int, ...]], ...]
    v: int
    y_parity: int
    r: int
    s: int


@dataclass(frozen=True, slots=True)
class HeaderRecord:
    """A block header (a mined one, or the pending block's)."""

    number: int
    hash: bytes
    parent_hash: bytes
    nonce: bytes
    mix_hash: bytes
    uncles_hash: bytes
    bloom: int
    transaction_root: bytes
    state_root: bytes
    receipt_root: bytes
    coinbase: bytes
    difficulty: int
    extra_data: bytes
    gas_limit: int
    gas_used: int
    timestamp: int
    base_fee_per_gas: int
    withdrawals_root: bytes
    blob_gas_used: int
    excess_blob_gas: int
    parent_beacon_block_root: bytes
    requests_hash: bytes | None

    @property
    def block_number(self) -> int:
        """The same as :attr:`number` (py-evm's name)."""
        return self.number


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """A block: its header, its transactions in order and its RLP size in bytes."""

    header: HeaderRecord
    transactions: tuple[TxRecord, ...]
    size: int

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def number(self) -> int:
        return self.header.number


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One log with its position in the canonical chain."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    transaction_index: int
    log_index: int


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    """A mined transaction's receipt; ``gas_used`` is its own, ``cumulative_gas_used`` the
    block's up to and including it."""

    status: int
    cumulative_gas_used: int
    gas_used: int
    bloom: int
    logs: tuple[LogEntry, ...]


@dataclass(frozen=True, slots=True)
class LogFilter:
    """A log query; ``topics[i]`` is None (any), or a tuple of alternatives."""

    from_block: int
    to_block: int
    addresses: tuple[bytes, ...] = ()
    topics: tuple[tuple[bytes, ...] | None, ...] = ()
    block_hash: bytes | None = None

    def matches(self, log: LogEntry) -> bool:
        """True if ``log`` passes the address and topic conditions."""
        if self.addresses and log.address not in self.addresses:
            return False
        if len(self.topics) > len(log.topics):
            return False
        return all(
            wanted is None or log.topics[i] in wanted for i, wanted in enumerate(self.topics)
        )


@dataclass(frozen=True, slots=True)
class CallParams:
    """A message to execute without a signature (eth_call / eth_estimateGas)."""

    sender: bytes = b"\x00" * 20
    to: bytes = b""
    gas: int | None = None
    value: int = 0
    data: bytes = b""
