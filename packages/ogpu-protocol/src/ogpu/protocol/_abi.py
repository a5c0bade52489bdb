"""ABI encoding/decoding of the bundled contract ABIs (eth_abi; no web3 contract objects)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak
from ogpu.chain._address import to_checksum
from ogpu.types.errors import OGPUError, ValidationError

if TYPE_CHECKING:
    from importlib.abc import Traversable

__all__ = ["Event", "Fn", "abi_directory", "decode_event", "event", "fn", "load_bundled_abi"]


def abi_directory(abi_set: str) -> Traversable:
    """The bundled ABI folder of ``abi_set`` ("mainnet" or "testnet")."""
    return resources.files("ogpu.protocol") / "abis" / abi_set


@lru_cache(maxsize=64)
def _read_abi(abi_set: str, file_name: str) -> str:
    return (abi_directory(abi_set) / file_name).read_text("utf-8")


def load_bundled_abi(abi_set: str, abi_name: str) -> list[dict[str, Any]]:
    """Parse a bundled ABI file (``Nexus`` or ``NexusAbi``) of ``abi_set``."""
    base = abi_name[:-3] if abi_name.endswith("Abi") else abi_name
    file_name = f"{base[:1].upper()}{base[1:]}Abi.json"
    try:
        data = json.loads(_read_abi(abi_set, file_name))
    except FileNotFoundError:
        raise ValidationError(f"no bundled ABI named {abi_name!r} in set {abi_set!r}") from None
    if isinstance(data, dict):
        data = data.get("abi", [])
    return list(data)


def _type_of(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_type_of(c) for c in param.get("components", []))
        return f"({inner}){kind[5:]}"
    return kind


@dataclass(frozen=True)
class Fn:
    """One contract function: selector, input and output types."""

    contract: str
    name: str
    selector: bytes
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]

    def encode(self, *args: Any) -> str:
        """Calldata as 0x-hex."""
        return "0x" + (self.selector + abi_encode(list(self.inputs), list(args))).hex()

    def decode(self, data: bytes) -> Any:
        """Decoded outputs: the single value for one output, else a tuple."""
        values = abi_decode(list(self.outputs), data)
        return values[0] if len(values) == 1 else tuple(values)


@dataclass(frozen=True)
class Event:
    """One event: topic0 and parameter layout."""

    name: str
    topic0: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    indexed: tuple[bool, ...]


@cache
def _functions(abi_set: str, contract: str) -> dict[str, Fn]:
    out: dict[str, Fn] = {}
    for entry in load_bundled_abi(abi_set, contract):
        if entry.get("type") != "function":
            continue
        inputs = tuple(_type_of(p) for p in entry.get("inputs", []))
        outputs = tuple(_type_of(p) for p in entry.get("outputs", []))
        signature = f"{entry['name']}({','.join(inputs)})"
        out[entry["name"]] = Fn(
            contract, entry["name"], keccak(text=signature)[:4], inputs, outputs
        )
    return out


@cache
def _events(abi_set: str, contract: str) -> dict[str, Event]:
    out: dict[str, Event] = {}
    for entry in load_bundled_abi(abi_set, contract):
        if entry.get("type") != "event":
            continue
        params = entry.get("inputs", [])
        types = tuple(_type_of(p) for p in params)
        signature = f"{entry['name']}({','.join(types)})"
        out[entry["name"]] = Event(
            entry["name"],
            "0x" + keccak(text=signature).hex(),
            tuple(p["name"] for p in params),
            types,
            tuple(bool(p.get("indexed")) for p in params),
        )
    return out


def fn(abi_set: str, contract: str, name: str) -> Fn:
    """Look up a function of a bundled ABI."""
    try:
        return _functions(abi_set, contract)[name]
    except KeyError:
        raise ValidationError(
            f"{contract}.{name} does not exist in the {abi_set} ABI of {contract}"
        ) from None


def event(abi_set: str, contract: str, name: str) -> Event:
    """Look up an event of a bundled ABI."""
    try:
        return _events(abi_set, contract)[name]
    except KeyError:
        raise ValidationError(f"event {contract}.{name} is not in the {abi_set} ABI") from None


def _hex(value: Any) -> str:
    """Lowercase 0x-hex of a JSON-RPC hex str or of bytes (web3's ``HexBytes``)."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    text = str(value).lower()
    return text if text.startswith("0x") else "0x" + text


def decode_event(ev: Event, log: Mapping[str, Any]) -> dict[str, Any] | None:
    """Decode a log if its first topic is ``ev``'s; else None.

    ``topics`` and ``data`` may be 0x-hex str (raw JSON-RPC) or bytes (web3 ``HexBytes``).
    ``address`` values come back in EIP-55 form; an indexed ``string`` is its topic hash.
    Raises :class:`ValidationError` when a log with ``ev``'s topic does not decode.
    """
    topics = [_hex(t) for t in log.get("topics", [])]
    if not topics or topics[0] != ev.topic0:
        return None
    try:
        data_types = [t for t, ix in zip(ev.types, ev.indexed, strict=False) if not ix]
        data = bytes.fromhex(_hex(log.get("data", "0x"))[2:])
        values = list(abi_decode(data_types, data)) if data_types else []
        out: dict[str, Any] = {}
        topic_iter = iter(topics[1:])
        for name, kind, indexed in zip(ev.names, ev.types, ev.indexed, strict=False):
            if indexed:
                raw = bytes.fromhex(next(topic_iter)[2:])
                value = abi_decode([kind], raw)[0] if kind != "string" else raw
            else:
                value = values.pop(0)
            out[name] = to_checksum(value) if kind == "address" else value
    except (DecodingError, OGPUError, StopIteration, ValueError) as exc:  # short topics, odd hex
        raise ValidationError(f"log does not decode as event {ev.name}: {exc}") from None
    return out
