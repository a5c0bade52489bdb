"""What a node's JSON-RPC error means: one place that reads the wording of geth, erigon, reth,
nethermind, anvil, Hardhat, eth-tester and hosted RPC gateways.

:func:`classify` maps an error object's ``code`` and ``message`` to a :class:`NodeErrorKind`;
:func:`revert_reason` pulls the reason out of a revert message. The executor decides from the
kind whether to re-send the same bytes, move to another nonce, bump fees or give up; the event
poller whether to re-create a filter the node forgot.

Example::

    >>> classify(-32000, "nonce too low: next nonce 5, tx nonce 4")
    <NodeErrorKind.NONCE_TOO_LOW: 'nonce_low'>
    >>> revert_reason("execution reverted: NotOwner")
    'NotOwner'
"""

from __future__ import annotations

import re
from enum import Enum

__all__ = ["NodeErrorKind", "classify", "revert_reason"]


class NodeErrorKind(Enum):
    """What a node's error means for the request that caused it."""

    #: The node already has this exact transaction (a re-send of the same bytes).
    ALREADY_KNOWN = "known"
    #: The nonce was used already (mined): the transaction must move to a fresh nonce.
    NONCE_TOO_LOW = "nonce_low"
    #: The nonce leaves a gap the node will not queue.
    NONCE_TOO_HIGH = "nonce_high"
    #: A pooled transaction holds this nonce and ours does not pay enough more to replace it.
    REPLACEMENT_UNDERPRICED = "replacement"
    #: The fees are below what the node or the block accepts.
    UNDERPRICED = "underpriced"
    #: The sender cannot pay gas * price + value.
    INSUFFICIENT_FUNDS = "funds"
    #: A gas limit or fee cap no retry can fix (block gas limit, intrinsic gas, RPC fee cap).
    GAS = "gas"
    #: The EVM reverted (the call, the estimate or the transaction).
    REVERT = "revert"
    #: The node does not know the filter id (expired, or the node restarted).
    FILTER_NOT_FOUND = "filter_gone"
    #: Busy, lagging, rate limited or briefly unreachable: the same request may pass later.
    TRANSIENT = "transient"
    #: Anything else: invalid sender or chain id, malformed request, unknown wording.
    FATAL = "fatal"


_ALREADY_KNOWN = ("already known", "known transaction", "already imported")
_NONCE_TOO_LOW = ("nonce too low", "nonce is too low", "oldnonce")
_NONCE_TOO_HIGH = ("nonce too high", "nonce gap")
_UNDERPRICED = ("underpriced", "fee too low", "max fee per gas less than")
_GAS = (
    "exceeds block gas limit",
    "gas limit reached",
    "intrinsic gas too low",
    "gas too low",
    "exceeds the configured cap",
    "exceeds the configured fee cap",
    "tx fee exceeds",
    "gas limit exceeds",
)
_FATAL = (
    "invalid sender",
    "invalid chain id",
    "chain id mismatch",
    "incorrect chain id",
    "wrong chain id",
    "only replay-protected",
    "invalid signature",
    "invalid transaction",
    "transaction type not supported",
)
_TRANSIENT = (
    "timeout",
    "timed out",
    "header not found",
    "try again",
    "temporarily",
    "temporary",
    "busy",
    "rate limit",
    "too many requests",
    "service unavailable",
    "bad gateway",
    "gateway timeout",
    "connection reset",
    "connection aborted",
    "remote end closed connection",
    "connection refused",
    "connection error",
    "overloaded",
)
#: Codes that mean "retry later" whatever the message (-32005: EIP-1474 limit exceeded).
_TRANSIENT_CODES = {-32005, 408, 429}
_FILTER_NOT_FOUND = re.compile(
    r"filter.{0,40}(not found|does ?n[o']t exist|unknown|expired)|unknown filter|no such filter",
    re.IGNORECASE,
)
#: How nodes word a revert; group 1 is the reason.
_REVERT_PATTERNS = (
    re.compile(r"reverted with reason string '([^']*)'"),  # Hardhat
    re.compile(r"reverted with custom error '([A-Za-z0-9_]+)"),  # Hardhat
    re.compile(r"execution reverted:\s*(.+)$", re.S),  # geth, anvil, reth
    re.compile(r"VM Exception while processing transaction:\s*revert(?:ed)?\s*(.*)$", re.S),
    re.compile(r"\brevert(?:ed)?:?\s+([A-Za-z_][A-Za-z0-9_]*)"),  # ganache, eth-tester
)


def revert_reason(message: str) -> str | None:
    """The reason a revert message names (possibly ``""``), or None if it names none."""
    for pattern in _REVERT_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1).strip().strip("'\"")
    return None


def classify(code: int | None, message: str) -> NodeErrorKind:
    """What the JSON-RPC error ``{code, message}`` means (the first matching kind wins).

    The wording is checked before the code: nodes reuse -32000 and -32603 for nearly
    everything. Reverts are recognised by code 3 (geth's) or the word "revert"; a revert
    carried only in ``data`` is for :mod:`ogpu.protocol` to decode.
    """
    text = message.lower()
    if any(word in text for word in _ALREADY_KNOWN):
        return NodeErrorKind.ALREADY_KNOWN
    if any(word in text for word in _NONCE_TOO_LOW):
        return NodeErrorKind.NONCE_TOO_LOW
    if any(word in text for word in _NONCE_TOO_HIGH):
        return NodeErrorKind.NONCE_TOO_HIGH
    if "replacement" in text and "underpriced" in text:
        return NodeErrorKind.REPLACEMENT_UNDERPRICED
    if any(word in text for word in _UNDERPRICED):
        return NodeErrorKind.UNDERPRICED
    if "insufficient funds" in text:
        return NodeErrorKind.INSUFFICIENT_FUNDS
    if any(word in text for word in _GAS):
        return NodeErrorKind.GAS
    if any(word in text for word in _FATAL):
        return NodeErrorKind.FATAL
    if _FILTER_NOT_FOUND.search(message):
        return NodeErrorKind.FILTER_NOT_FOUND
    if code == 3 or "revert" in text:
        return NodeErrorKind.REVERT
    if code in _TRANSIENT_CODES or (isinstance(code, int) and 500 <= code <= 599):
        return NodeErrorKind.TRANSIENT
    if any(word in text for word in _TRANSIENT):
        return NodeErrorKind.TRANSIENT
    return NodeErrorKind.FATAL
