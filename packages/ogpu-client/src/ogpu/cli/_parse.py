"""Argument types of the ``ogpu`` command: amounts, durations, addresses, JSON data.

Each parser raises :class:`argparse.ArgumentTypeError`, so bad input is a usage error
(exit 2) reported by argparse before anything touches the network.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

WEI_PER_OGPU = 10**18

_AMOUNT = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(wei|gwei|ogpu)?\s*$", re.IGNORECASE)
_UNIT = {"wei": 1, "gwei": 10**9, "ogpu": WEI_PER_OGPU}
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def amount(text: str) -> int:
    """``123`` or ``123wei`` (wei), ``1.5gwei``, ``0.01ogpu`` -> wei. Fractions of a wei fail.

    >>> amount("0.01ogpu")
    10000000000000000
    """
    match = _AMOUNT.match(text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"not an amount: {text!r} (use wei, e.g. 1000, or units, e.g. 0.01ogpu)"
        )
    number, unit = match.group(1), (match.group(2) or "wei").lower()
    try:
        value = Decimal(number) * _UNIT[unit]
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if value != value.to_integral_value():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of wei")
    return int(value)


def duration(text: str) -> float:
    """``90``, ``90s``, ``15m``, ``2h``, ``1d``, ``1h30m`` -> seconds (> 0)."""
    compact = text.strip().lower().replace(" ", "")
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", compact):
        seconds = float(compact)
    else:
        parts = _DURATION_PART.findall(compact)
        if not parts or "".join(n + u for n, u in parts) != compact:
            raise argparse.ArgumentTypeError(
                f"not a duration: {text!r} (e.g. 90s, 15m, 2h, 1d, 1h30m)"
            )
        seconds = sum(float(n) * _SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"duration must be positive: {text!r}")
    return seconds


def address(text: str) -> str:
    """A 0x-prefixed 20-byte hex address (checksum case is checked by the SDK)."""
    value = text.strip()
    if not _ADDRESS.match(value):
        raise argparse.ArgumentTypeError(f"not an address: {text!r} (0x and 40 hex digits)")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def block_number(text: str) -> int:
    """An integer >= 0."""
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a block number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def json_data(text: str) -> Any:
    """``--data``: JSON text, ``@FILE`` (a JSON file) or ``@-`` (JSON on stdin)."""
    source = "--data"
    if text.startswith("@"):
        path = text[1:]
        source = "stdin" if path == "-" else path
        try:
            if path == "-":
                text = sys.stdin.read()
            else:
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
        except OSError as exc:
            raise argparse.ArgumentTypeError(
                f"cannot read {path!r}: {exc.strerror or exc}"
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"{source} is not JSON: {exc}") from None
