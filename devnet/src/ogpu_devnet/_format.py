"""JSON-RPC shapes of the chain's blocks, transactions, receipts and logs (geth's field names).

Pure functions of what :class:`~ogpu_devnet.chain.DevnetChain` returns; the server calls them
under the chain's lock.
"""

from __future__ import annotations

from typing import Any

import rlp  # type: ignore[import-untyped]
from eth_utils.address import to_checksum_address

from ogpu_devnet.chain import DevnetChain, LogEntry

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


def tx_type(tx: Any) -> int:
    return int(getattr(tx, "type_id", None) or 0)


def format_tx(tx: Any, block: Any | None, index: int | None) -> dict[str, Any]:
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
    if kind >= 2:
        base_fee = int(block.header.base_fee_per_gas) if block is not None else 0
        out["maxFeePerGas"] = _hex(tx.max_fee_per_gas)
        out["maxPriorityFeePerGas"] = _hex(tx.max_priority_fee_per_gas)
        out["gasPrice"] = _hex(
            min(tx.max_fee_per_gas, tx.max_priority_fee_per_gas + base_fee)
            if block is not None
            else tx.max_fee_per_gas
        )
    else:
        out["gasPrice"] = _hex(tx.gas_price)
    if kind >= 1:
        out["chainId"] = _hex(tx.chain_id)
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
        if tx.v >= 35:
            out["chainId"] = _hex((tx.v - 35) // 2)
    out["r"] = _hex(tx.r)
    out["s"] = _hex(tx.s)
    return out


def format_block(block: Any, full: bool, *, pending: bool = False) -> dict[str, Any]:
    header = block.header
    if full:
        transactions: list[Any] = [
            format_tx(tx, None if pending else block, None if pending else i)
            for i, tx in enumerate(block.transactions)
        ]
    else:
        transactions = [_hexdata(tx.hash) for tx in block.transactions]
    out: dict[str, Any] = {
        "number": _hex(header.block_number),
        "hash": None if pending else _hexdata(header.hash),
        "parentHash": _hexdata(header.parent_hash),
        "nonce": None if pending else _hexdata(header.nonce),
        "mixHash": _hexdata(header.mix_hash),
        "sha3Uncles": _hexdata(header.uncles_hash),
        "logsBloom": "0x" + int(header.bloom).to_bytes(256, "big").hex(),
        "transactionsRoot": _hexdata(header.transaction_root),
        "stateRoot": _hexdata(header.state_root),
        "receiptsRoot": _hexdata(header.receipt_root),
        "miner": to_checksum_address(header.coinbase),
        "difficulty": _hex(header.difficulty),
        "totalDifficulty": _hex(header.difficulty),
        "extraData": _hexdata(header.extra_data),
        "size": _hex(len(rlp.encode(block))),
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
    requests_hash = getattr(header, "requests_hash", None)
    if requests_hash is not None:
        out["requestsHash"] = _hexdata(requests_hash)
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


def block_rewards(chain: DevnetChain, block: Any, percentiles: list[float]) -> list[str]:
    base_fee = int(block.header.base_fee_per_gas)
    receipts = chain.receipts(block)
    tips: list[tuple[int, int]] = []
    previous = 0
    for tx, receipt in zip(block.transactions, receipts, strict=True):
        used = int(receipt.gas_used) - previous
        previous = int(receipt.gas_used)
        if tx_type(tx) >= 2:
            tip = min(tx.max_priority_fee_per_gas, tx.max_fee_per_gas - base_fee)
        else:
            tip = tx.gas_price - base_fee
        tips.append((max(tip, 0), used))
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


def format_receipt(chain: DevnetChain, block: Any, tx: Any, index: int) -> dict[str, Any]:
    receipts = chain.receipts(block)
    receipt = receipts[index]
    previous = int(receipts[index - 1].gas_used) if index else 0
    kind = tx_type(tx)
    base_fee = int(block.header.base_fee_per_gas)
    if kind >= 2:
        price = min(tx.max_fee_per_gas, tx.max_priority_fee_per_gas + base_fee)
    else:
        price = tx.gas_price
    logs = [e for e in chain.block_logs(block) if e.transaction_index == index]
    return {
        "transactionHash": _hexdata(tx.hash),
        "transactionIndex": _hex(index),
        "blockHash": _hexdata(block.hash),
        "blockNumber": _hex(block.number),
        "from": to_checksum_address(tx.sender),
        "to": to_checksum_address(tx.to) if tx.to else None,
        "cumulativeGasUsed": _hex(receipt.gas_used),
        "gasUsed": _hex(int(receipt.gas_used) - previous),
        "effectiveGasPrice": _hex(price),
        "contractAddress": (
            None if tx.to else DevnetChain.contract_address(bytes(tx.sender), tx.nonce)
        ),
        "logs": [format_log(e) for e in logs],
        "logsBloom": "0x" + int(receipt.bloom).to_bytes(256, "big").hex(),
        "status": "0x1" if receipt.state_root == b"\x01" else "0x0",
        "type": _hex(kind),
    }
