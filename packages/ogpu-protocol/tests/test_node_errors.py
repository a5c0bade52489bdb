"""``ogpu.chain.node_errors``: what the wording and codes of real nodes mean.

It is the one place that reads them: the executor (``ogpu.chain.tx._classify``) acts on its
kinds, and ``test_agrees_with_the_executor`` checks it keeps no reading of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from ogpu.chain.node_errors import NodeErrorKind, classify, revert_reason
from ogpu.chain.tx import _classify
from ogpu.types import TxRpcError

K = NodeErrorKind

CASES = [
    # geth / erigon / reth txpool
    (-32000, "already known", K.ALREADY_KNOWN),
    (-32010, "Known transaction: 0x1234", K.ALREADY_KNOWN),  # nethermind-style
    (-32000, "nonce too low: next nonce 5, tx nonce 4", K.NONCE_TOO_LOW),
    (-32003, "Nonce is too low", K.NONCE_TOO_LOW),
    (-32000, "OldNonce", K.NONCE_TOO_LOW),
    (-32000, "nonce too high", K.NONCE_TOO_HIGH),
    (-32000, "replacement transaction underpriced", K.REPLACEMENT_UNDERPRICED),
    (-32000, "transaction underpriced", K.UNDERPRICED),
    (-32000, "max fee per gas less than block base fee", K.UNDERPRICED),
    (-32000, "insufficient funds for gas * price + value", K.INSUFFICIENT_FUNDS),
    (-32000, "exceeds block gas limit", K.GAS),
    (-32000, "intrinsic gas too low", K.GAS),
    (-32000, "tx fee (2.00 ether) exceeds the configured cap (1.00 ether)", K.GAS),
    (-32000, "invalid sender", K.FATAL),
    (-32000, "invalid chain id for signer", K.FATAL),
    (-32000, "only replay-protected (EIP-155) transactions allowed over RPC", K.FATAL),
    # reverts: geth's code 3, Hardhat's -32603 wording, eth-tester's
    (3, "execution reverted: NotOwner", K.REVERT),
    (3, "execution reverted", K.REVERT),
    (
        -32603,
        "Error: VM Exception while processing transaction: reverted with reason string 'X'",
        K.REVERT,
    ),
    (-32000, "revert NotMaster", K.REVERT),
    # filters the node forgot (geth, anvil, eth-tester, hardhat)
    (-32000, "filter not found", K.FILTER_NOT_FOUND),
    (-32602, "Unknown filter id", K.FILTER_NOT_FOUND),
    (-32000, "Filter with id 0x5 does not exist", K.FILTER_NOT_FOUND),
    (-32000, "filter 0x2a expired", K.FILTER_NOT_FOUND),
    # busy, lagging, rate limited
    (-32000, "header not found", K.TRANSIENT),
    (-32000, "request timed out", K.TRANSIENT),
    (-32000, "server busy, try again later", K.TRANSIENT),
    (-32005, "limit exceeded", K.TRANSIENT),
    (429, "Too Many Requests", K.TRANSIENT),
    (503, "Service Unavailable", K.TRANSIENT),
    (None, "connection refused", K.TRANSIENT),
    # anything else
    (-32602, "invalid argument 0: json: cannot unmarshal", K.FATAL),
    (-32603, "internal error", K.FATAL),
    (-32601, "the method eth_foo does not exist/is not available", K.FATAL),
]


@pytest.mark.parametrize(("code", "message", "kind"), CASES)
def test_classify(code: int | None, message: str, kind: NodeErrorKind) -> None:
    assert classify(code, message) is kind


# The executor never sees filter calls: no counterpart for FILTER_NOT_FOUND.
@pytest.mark.parametrize(
    ("code", "message", "kind"), [c for c in CASES if c[2] is not K.FILTER_NOT_FOUND]
)
def test_agrees_with_the_executor(code: int | None, message: str, kind: NodeErrorKind) -> None:
    assert _classify(TxRpcError(message, code)) == classify(code, message).value


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("execution reverted: NotOwner", "NotOwner"),
        (
            "Error: VM Exception while processing transaction: reverted with reason string 'Expired'",
            "Expired",
        ),
        (
            "VM Exception while processing transaction: reverted with custom error 'NotMaster()'",
            "NotMaster",
        ),
        ("VM Exception while processing transaction: revert SourceInactive", "SourceInactive"),
        ("execution reverted: 'quoted'", "quoted"),
        ("revert InsufficientBalance", "InsufficientBalance"),
        ("nonce too low", None),
        ("execution reverted", None),
    ],
)
def test_revert_reason(message: str, reason: str | None) -> None:
    assert revert_reason(message) == reason


def test_the_executor_reads_no_wording_of_its_own() -> None:
    """No phrase of :mod:`ogpu.chain.node_errors` is spelled again in the executor's modules."""
    from ogpu.chain import _send, node_errors, tx

    def strings(module: object) -> set[str]:
        tree = ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())
        return {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }

    phrases = {
        word
        for name, value in vars(node_errors).items()
        if name.isupper() and isinstance(value, tuple)
        for word in value
        if isinstance(word, str)
    }
    phrases -= {kind.value for kind in NodeErrorKind}  # the kinds it acts on are its words
    assert len(phrases) > 30
    assert not phrases & (strings(tx) | strings(_send))
