"""JSON-RPC shapes of the chain's blocks, transactions, receipts and logs (geth's field names).

Pure functions of the records :class:`~ogpu_devnet.chain.DevnetChain` returns
(:mod:`ogpu_devnet._records`); the server calls them under the chain's lock.
"""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address

from ogpu_devnet._records import BlockRecord, LogEntry, TxRecord
from ogpu_devnet.chain import DevnetChain

__all__ = [
    "block_rewards",
    "format_block",
    "format_log",
    "format_receipt",
    "format_tx",
    "tx_type",
]


def _hex(value: int) -> str:
    return hex(value)


def _hexdata(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def tx_type(tx: TxRecord) -> int:
    return tx.type_id


def _price(tx: TxRecord, base_fee: int) -> int:
    """What the transaction pays per gas in a block with ``base_fee``."""
    if tx.gas_price is None:
        return min(tx.max_fee_per_gas, tx.max_priority_fee_per_gas + base_fee)
    return tx.gas_price


def format_tx(tx: TxRecord, block: BlockRecord | None, index: int | None) -> dict[str, Any]:
    kind = tx_type(tx)
    out: dict[str, Any] = {
        "type": _hex(kind),
        "hash": _hexdata(tx.hash),
        "nonce": _hex(tx.nonce),
        "blockHash": _hexdata(block.hash) if block is not None else None,
        "blockNumber": _hex(block.number) if block is not None else None,
        "transactionIndex": _hex(index) if index is not None else None,
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "value": _hex(tx.value),
        "gas": _hex(tx.gas),
        "input": _hexdata(tx.data),
    }
    if tx.gas_price is None:
        out["maxFeePerGas"] = _hex(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = _hex(tx.max_priority_fee_per_gas)
        out["gasPrice"] = _hex(
            _price(tx, block.header.base_fee_per_gas) if block is not None else tx.max_fee_per_gas
        )
    else:
        out["gasPrice"] = _hex(tx.gas_price)
    if kind >= 1:
        out["chainId"] = _hex(tx.chain_id or 0)
        out["accessList"] = [
            {
                "address": to_checksum_address(address),
                "storageKeys": ["0x" + int(slot).to_bytes(32, "big").hex() for slot in slots],
            }
            for address, slots in tx.access_list
        ]
        out["v"] = _hex(tx.y_parity)
        out["yParity"] = _hex(tx.y_parity)
    else:
        out["v"] = _hex(tx.v)
        if tx.chain_id is not None:
            out["chainId"] = _hex(tx.chain_id)
    out["r"] = _hex(tx.r)
    out["s"] = _hex(tx.s)
    return out


def format_block(block: BlockRecord, full: bool, *, pending: bool = False) -> dict[str, Any]:
    header = block.header
    if full:
        transactions: list[Any] = [
            format_tx(tx, None if pending else block, None if pending else i)
            for i, tx in enumerate(block.transactions)
        ]
    else:
        transactions = [_hexdata(tx.hash) for tx in block.transactions]
    out: dict[str, Any] = {
        "number": _hex(header.number),
        "hash": None if pending else _hexdata(header.hash),
        "parentHash": _hexdata(header.parent_hash),
        "nonce": None if pending else _hexdata(header.nonce),
        "mixHash": _hexdata(header.mix_hash),
        "sha3Uncles": _hexdata(header.uncles_hash),
        "logsBloom": "0x" + header.bloom.to_bytes(256, "big").hex(),
        "transactionsRoot": _hexdata(header.transaction_root),
        "stateRoot": _hexdata(header.state_root),
        "receiptsRoot": _hexdata(header.receipt_root),
        "miner": to_checksum_address(header.coinbase),
        "difficulty": _hex(header.difficulty),
        "totalDifficulty": _hex(header.difficulty),
        "extraData": _hexdata(header.extra_data),
        "size": _hex(block.size),
        "gasLimit": _hex(header.gas_limit),
        "gasUsed": _hex(header.gas_used),
        "timestamp": _hex(header.timestamp),
        "transactions": transactions,
        "uncles": [],
        "baseFeePerGas": _hex(header.base_fee_per_gas),
        "withdrawals": [],
        "withdrawalsRoot": _hexdata(header.withdrawals_root),
        "blobGasUsed": _hex(header.blob_gas_used),
        "excessBlobGas": _hex(header.excess_blob_gas),
        "parentBeaconBlockRoot": _hexdata(header.parent_beacon_block_root),
    }
    if header.requests_hash is not None:
        out["requestsHash"] = _hexdata(header.requests_hash)
    return out


def format_log(entry: LogEntry) -> dict[str, Any]:
    return {
        "address": to_checksum_address(entry.address),
        "topics": [_hexdata(t) for t in entry.topics],
        "data": _hexdata(entry.data),
        "blockNumber": _hex(entry.block_number),
        "blockHash": _hexdata(entry.block_hash),
        "transactionHash": _hexdata(entry.transaction_hash),
        "transactionIndex": _hex(entry.transaction_index),
        "logIndex": _hex(entry.log_index),
        "removed": False,
    }


def block_rewards(chain: DevnetChain, block: BlockRecord, percentiles: list[float]) -> list[str]:
    base_fee = block.header.base_fee_per_gas
    receipts = chain.receipts(block)
    tips: list[tuple[int, int]] = []
    for tx, receipt in zip(block.transactions, receipts, strict=True):
        tip = min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)
        tips.append((max(tip, 0), receipt.gas_used))
    if not tips:
        return ["0x0"] * len(percentiles)
    tips.sort()
    total = sum(used for _, used in tips) or 1
    out: list[str] = []
    for p in percentiles:
        threshold = total * p / 100
        acc = 0
        chosen = tips[-1][0]
        for tip, used in tips:
            acc += used
            if acc >= threshold:
                chosen = tip
                break
        out.append(_hex(chosen))
    return out


def format_receipt(
    chain: DevnetChain, block: BlockRecord, tx: TxRecord, index: int
) -> dict[str, Any]:
    receipt = chain.receipts(block)[index]
    return {
        "transactionHash": _hexdata(tx.hash),
        "transactionIndex": _hex(index),
        "blockHash": _hexdata(block.hash),
        "blockNumber": _hex(block.number),
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "cumulativeGasUsed": _hex(receipt.cumulative_gas_used),
        "gasUsed": _hex(receipt.gas_used),
        "effectiveGasPrice": _hex(_price(tx, block.header.base_fee_per_gas)),
        "contractAddress": None if tx.to else DevnetChain.contract_address(tx.sender, tx.nonce),
        "logs": [format_log(e) for e in receipt.logs],
        "logsBloom": "0x" + receipt.bloom.to_bytes(256, "big").hex(),
        "status": _hex(receipt.status),
        "type": _hex(tx.type_id),
    }
