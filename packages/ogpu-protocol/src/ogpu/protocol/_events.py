"""Event topics and log decoding from the bundled ABIs, for code that reads logs itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ogpu.chain._address import to_checksum
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.protocol import _abi
from ogpu.types.errors import InvalidArgumentTypeError, ValidationError
from ogpu.types.receipt import Receipt

__all__ = ["decode_event", "emitted_address", "event_topic"]


def event_topic(name: str, *, contract: str = "Nexus", chain: ChainLike | int | None = None) -> str:
    """The first topic (lowercase 0x-hex keccak of the signature) of event ``contract.name``.

    The ABI is the one bundled for ``chain`` (default: the current chain). Raises
    :class:`ogpu.types.ValidationError` for an event the ABI does not have.

    Example::

        logs = w3.eth.get_logs({"address": nexus, "topics": [[event_topic("TaskPublished")]]})
    """
    return _abi.event(ChainConfig.get_abi_set(chain), contract, name).topic0


def decode_event(
    name: str,
    log: Mapping[str, Any],
    *,
    contract: str = "Nexus",
    chain: ChainLike | int | None = None,
) -> dict[str, Any] | None:
    """The fields of ``log`` if it is event ``contract.name``; None for any other event.

    ``log`` is a JSON-RPC log (``topics`` and ``data`` as 0x-hex) or a web3 log (bytes).
    Addresses come back in EIP-55 form. The emitter is not checked: callers that trust an
    event must compare ``log["address"]`` with the contract that should emit it. Raises
    :class:`ogpu.types.ValidationError` for an unknown event or a log that carries the
    event's topic but does not decode.

    Example::

        fields = decode_event("TaskPublished", log)
        if fields is not None:
            print(fields["task"], fields["source"])
    """
    return _abi.decode_event(_abi.event(ChainConfig.get_abi_set(chain), contract, name), log)


def emitted_address(
    receipt: Receipt, event_name: str, field: str, chain: ChainLike | int | None
) -> str:
    """The address in ``field`` of the ``event_name`` log the chain's Nexus emitted in
    ``receipt`` (the new source or task of a publish)."""
    if not isinstance(receipt, Receipt):
        raise InvalidArgumentTypeError("receipt", "a Receipt", type(receipt).__name__)
    ev = _abi.event(ChainConfig.get_abi_set(chain), "Nexus", event_name)
    emitter = ChainConfig.get_contract_address("NEXUS", chain).lower()
    for log in receipt.logs:
        # Only the event the Nexus itself emitted counts: any contract called during the
        # transaction can emit a log with the same topic (a forged address).
        if not isinstance(log, dict) or str(log.get("address", "")).lower() != emitter:
            continue
        decoded = _abi.decode_event(ev, log)
        if decoded is not None:
            return to_checksum(decoded[field], argument=field)
    raise ValidationError(
        f"receipt {receipt.tx_hash} has no {event_name} event emitted by the Nexus ({emitter})"
    )
