"""Address and amount validation (before any I/O)."""

from __future__ import annotations

import re
from typing import Any

from eth_utils.crypto import keccak
from ogpu.types.errors import InvalidAddressError, InvalidAmountError, InvalidArgumentTypeError

__all__ = ["ZERO_ADDRESS", "check_amount", "is_zero", "to_checksum"]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_HEX40 = re.compile(r"^0x[0-9a-fA-F]{40}$")
_MAX_UINT256 = 2**256 - 1


def _checksum(lower_hex40: str) -> str:
    digest = keccak(text=lower_hex40).hex()
    return "0x" + "".join(
        ch.upper() if int(digest[i], 16) >= 8 else ch for i, ch in enumerate(lower_hex40)
    )


def to_checksum(value: Any, *, argument: str = "address") -> str:
    """Validate an address and return its EIP-55 form.

    All-lowercase and all-uppercase hex are accepted; mixed case must carry a valid EIP-55
    checksum. Raises :class:`InvalidAddressError` / :class:`InvalidArgumentTypeError`.
    """
    if hasattr(value, "address") and not isinstance(value, str):
        value = value.address  # Source/Task/LocalAccount-like objects
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 20:
            raise InvalidAddressError(repr(bytes(value)), "expected 20 bytes", argument)
        return _checksum(bytes(value).hex())
    if not isinstance(value, str):
        raise InvalidArgumentTypeError(
            argument, "a 0x-prefixed hex address str", type(value).__name__
        )
    text = value.strip()
    if not _HEX40.match(text):
        raise InvalidAddressError(value, "expected 0x followed by 40 hex digits", argument)
    body = text[2:]
    expected = _checksum(body.lower())
    if body != body.lower() and body != body.upper() and text != expected:
        raise InvalidAddressError(value, "EIP-55 checksum mismatch (mixed case)", argument)
    return expected


def is_zero(address: str | None) -> bool:
    """True for None, "" and the zero address."""
    return not address or int(address, 16) == 0


def check_amount(value: Any, *, argument: str = "amount") -> int:
    """Validate a uint256 amount in wei (a non-negative int; bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentTypeError(argument, "an int (wei)", type(value).__name__)
    if value < 0:
        raise InvalidAmountError(value, "must not be negative", argument)
    if value > _MAX_UINT256:
        raise InvalidAmountError(value, "exceeds uint256", argument)
    return int(value)
