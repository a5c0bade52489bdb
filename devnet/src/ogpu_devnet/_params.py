"""Reading JSON-RPC parameters: quantities, byte strings, addresses, hashes, block tags and
call objects (malformed ones raise :class:`~ogpu_devnet.errors.InvalidParamsError`, -32602).

:class:`MethodsBase` is what every group of handlers (:mod:`ogpu_devnet.rpc`, the filters,
the test controls) starts from: the chain served and the block parameters read against it.
"""

from __future__ import annotations

from typing import Any

from ogpu_devnet.chain import CallParams, DevnetChain
from ogpu_devnet.errors import SERVER_ERROR, InvalidParamsError, RPCError

#: Block tags a block parameter may name.
_TAGS = ("latest", "earliest", "pending", "safe", "finalized")


def _quantity(value: Any, what: str = "quantity") -> int:
    if isinstance(value, bool):
        raise InvalidParamsError(f"invalid {what}: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidParamsError(f"invalid {what}: negative")
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise InvalidParamsError(f"invalid {what}: {value!r} (expected a 0x-prefixed hex number)")


def _data(value: Any, what: str = "data") -> bytes:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        body = value[2:]
        if len(body) % 2:
            body = "0" + body
        try:
            return bytes.fromhex(body)
        except ValueError:
            pass
    raise InvalidParamsError(f"invalid {what}: expected 0x-prefixed hex bytes")


def _address(value: Any) -> bytes:
    raw = _data(value, "address")
    if len(raw) != 20:
        raise InvalidParamsError("invalid address: expected 20 bytes")
    return raw


def _hash32(value: Any, what: str = "hash") -> bytes:
    raw = _data(value, what)
    if len(raw) != 32:
        raise InvalidParamsError(f"invalid {what}: expected 32 bytes")
    return raw


def _hex(value: int) -> str:
    return hex(value)


def _hexdata(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def _param(params: list[Any], index: int, default: Any = None) -> Any:
    return params[index] if len(params) > index and params[index] is not None else default


class MethodsBase:
    """The chain the JSON-RPC methods serve, and block parameters read against it."""

    def __init__(self, chain: DevnetChain) -> None:
        """Serve ``chain``."""
        self.chain = chain

    # ------------------------------------------------------------------ helpers

    def _block_number_param(self, value: Any, default: str = "latest") -> int | str:
        if value is None:
            return default
        if isinstance(value, dict):
            if "blockHash" in value:
                block = self.chain.block_by_hash(_hash32(value["blockHash"], "block hash"))
                if block is None:
                    raise InvalidParamsError("unknown block hash")
                return int(block.number)
            if "blockNumber" in value:
                return self._block_number_param(value["blockNumber"], default)
            raise InvalidParamsError("invalid block identifier object")
        if isinstance(value, str) and value in _TAGS:
            return value
        number = _quantity(value, "block number")
        return number

    def _state_tag(self, value: Any) -> int | str:
        tag = self._block_number_param(value)
        if isinstance(tag, int) and tag > self.chain.block_number():
            raise InvalidParamsError(f"header not found: block {tag} is not mined yet")
        return tag

    def _call_params(self, tx: Any) -> CallParams:
        if not isinstance(tx, dict):
            raise InvalidParamsError("transaction must be an object")
        data = tx.get("input", tx.get("data"))
        return CallParams(
            sender=_address(tx["from"]) if tx.get("from") else b"\x00" * 20,
            to=_address(tx["to"]) if tx.get("to") else b"",
            gas=_quantity(tx["gas"], "gas") if tx.get("gas") is not None else None,
            value=_quantity(tx["value"], "value") if tx.get("value") is not None else 0,
            data=_data(data) if data is not None else b"",
        )

    def _canonical(self, number: int) -> Any:
        block = self.chain.block_by_number(number)
        if block is None:
            raise RPCError(SERVER_ERROR, f"block {number} not found")
        return block

    def _block_for(self, tag: int | str) -> Any | None:
        if tag == "pending":
            return None
        return self.chain.block_by_number(self.chain.resolve_number(tag))
