"""The :class:`Receipt` every write returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Receipt"]


def _int(value: Any) -> int:
    if isinstance(value, str):
        return int(value, 16) if value.startswith(("0x", "0X")) else int(value)
    return int(value) if value is not None else 0


def _hex(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if hasattr(value, "to_0x_hex"):
        return str(value.to_0x_hex())
    text = str(value)
    return text if text.startswith("0x") else "0x" + text


def _log(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "address": str(raw.get("address", "")),
        "topics": [_hex(t) for t in raw.get("topics", [])],
        "data": _hex(raw.get("data", "0x")),
        "logIndex": _int(raw.get("logIndex", 0)),
        "blockNumber": _int(raw.get("blockNumber", 0)),
        "transactionHash": _hex(raw.get("transactionHash", "0x")),
    }


@dataclass(frozen=True)
class Receipt:
    """A mined transaction.

    ``logs`` are plain dicts ``{"address", "topics" (0x-hex str list), "data"
    (0x-hex str), "logIndex", "blockNumber", "transactionHash"}``;
    ``timestamp`` is the block's timestamp (0 when unknown).
    """

    tx_hash: str
    block_number: int
    gas_used: int
    status: int
    logs: list[Any] = field(default_factory=list)
    timestamp: int = 0

    @classmethod
    def from_web3_receipt(cls, receipt: Any, timestamp: int = 0) -> Receipt:
        """Build a Receipt from a web3 ``TxReceipt`` or a raw JSON-RPC receipt dict."""
        return cls(
            tx_hash=_hex(receipt["transactionHash"]),
            block_number=_int(receipt["blockNumber"]),
            gas_used=_int(receipt["gasUsed"]),
            status=_int(receipt["status"]),
            logs=[_log(entry) for entry in receipt.get("logs", [])],
            timestamp=int(timestamp),
        )

    @property
    def succeeded(self) -> bool:
        """True when the transaction executed without reverting."""
        return self.status == 1
