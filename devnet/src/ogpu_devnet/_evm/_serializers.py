"""py-evm's blocks, headers, transactions and receipts as :mod:`ogpu_devnet._records`.

The one crossing from py-evm objects to the devnet's own values: everything above the engine
reads records only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import rlp  # type: ignore[import-untyped]

from ogpu_devnet._records import BlockRecord, HeaderRecord, LogEntry, ReceiptRecord, TxRecord


def tx_record(tx: Any) -> TxRecord:
    """A signed py-evm transaction (any type) as a :class:`TxRecord`.

    Built for every transaction sent, so without conversions: py-evm's decoded fields are
    already plain ``int`` and ``bytes``.
    """
    type_id = tx.type_id or 0
    if type_id:
        v = y_parity = tx.y_parity
        chain_id: int | None = tx.chain_id
        access_list = tx.access_list
        if access_list:
            access_list = tuple(
                (bytes(a), tuple(int(s) for s in slots)) for a, slots in access_list
            )
        else:
            access_list = ()
    else:
        v = tx.v
        y_parity = (v - 35) % 2 if v >= 35 else v - 27
        chain_id = (v - 35) // 2 if v >= 35 else None
        access_list = ()
    return TxRecord(
        tx.hash,
        type_id,
        tx.sender,
        tx.nonce,
        tx.to,
        tx.value,
        tx.gas,
        tx.data,
        tx.gas_price if type_id < 2 else None,
        tx.max_fee_per_gas,
        tx.max_priority_fee_per_gas,
        chain_id,
        access_list,
        v,
        y_parity,
        tx.r,
        tx.s,
    )


def header_record(header: Any) -> HeaderRecord:
    """A py-evm block header as a :class:`HeaderRecord`."""
    requests_hash = getattr(header, "requests_hash", None)
    return HeaderRecord(
        number=int(header.block_number),
        hash=bytes(header.hash),
        parent_hash=bytes(header.parent_hash),
        nonce=bytes(header.nonce),
        mix_hash=bytes(header.mix_hash),
        uncles_hash=bytes(header.uncles_hash),
        bloom=int(header.bloom),
        transaction_root=bytes(header.transaction_root),
        state_root=bytes(header.state_root),
        receipt_root=bytes(header.receipt_root),
        coinbase=bytes(header.coinbase),
        difficulty=int(header.difficulty),
        extra_data=bytes(header.extra_data),
        gas_limit=int(header.gas_limit),
        gas_used=int(header.gas_used),
        timestamp=int(header.timestamp),
        base_fee_per_gas=int(header.base_fee_per_gas),
        withdrawals_root=bytes(header.withdrawals_root),
        blob_gas_used=int(header.blob_gas_used),
        excess_blob_gas=int(header.excess_blob_gas),
        parent_beacon_block_root=bytes(header.parent_beacon_block_root),
        requests_hash=None if requests_hash is None else bytes(requests_hash),
    )


def block_record(block: Any) -> BlockRecord:
    """A py-evm block as a :class:`BlockRecord` (its size: the length of its RLP)."""
    return BlockRecord(
        header=header_record(block.header),
        transactions=tuple(tx_record(tx) for tx in block.transactions),
        size=len(rlp.encode(block)),
    )


def log_entries(
    number: int, block_hash: bytes, tx_hashes: Sequence[bytes], receipts: Sequence[Any]
) -> list[LogEntry]:
    """Every log of a mined block (its number, hash, transaction hashes in order and py-evm
    ``receipts``), in order."""
    entries: list[LogEntry] = []
    for tx_index, (tx_hash, receipt) in enumerate(zip(tx_hashes, receipts, strict=True)):
        for log in receipt.logs:
            entries.append(
                LogEntry(
                    address=bytes(log.address),
                    topics=tuple(t.to_bytes(32, "big") for t in log.topics),
                    data=bytes(log.data),
                    block_number=number,
                    block_hash=block_hash,
                    transaction_hash=tx_hash,
                    transaction_index=tx_index,
                    log_index=len(entries),
                )
            )
    return entries


def receipt_records(receipts: Sequence[Any], logs: Sequence[LogEntry]) -> tuple[ReceiptRecord, ...]:
    """A block's py-evm receipts as :class:`ReceiptRecord` (``logs``: the block's log entries)."""
    out: list[ReceiptRecord] = []
    previous = 0
    for index, receipt in enumerate(receipts):
        cumulative = int(receipt.gas_used)
        out.append(
            ReceiptRecord(
                status=1 if receipt.state_root == b"\x01" else 0,
                cumulative_gas_used=cumulative,
                gas_used=cumulative - previous,
                bloom=int(receipt.bloom),
                logs=tuple(e for e in logs if e.transaction_index == index),
            )
        )
        previous = cumulative
    return tuple(out)
