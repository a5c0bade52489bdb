"""The devnet's own error root, apart from the SDK's.

``except OGPUError`` around a user's SDK calls must not swallow a broken fake node, a failed
deployment or a bad provider handler: those are :class:`DevnetError`, not
:class:`ogpu.ipfs.OGPUError`. Like the SDK's errors, each keeps its constructor arguments as
attributes of the same name and pickles by reading them back.
"""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode as abi_decode
from ogpu.ipfs import OGPUError

__all__ = [
    "DevnetError",
    "ExecutionError",
    "ExecutionRevertedError",
    "InvalidParamsError",
    "StateDirError",
    "TransactionRejectedError",
    "decode_revert_reason",
]

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)


class DevnetError(Exception):
    """Root of every error the devnet (chain, JSON-RPC server, pinning service, provider
    runtime, deployment) raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The SDK root's pickling is generic (fields read back through the constructor).
        return OGPUError.__reduce__(self)  # type: ignore[arg-type]


class InvalidParamsError(DevnetError, ValueError):
    """A request's parameters are malformed (JSON-RPC -32602)."""


class TransactionRejectedError(DevnetError):
    """The node refused a transaction before execution (bad nonce, funds, chain id...)."""


class ExecutionError(DevnetError):
    """A call or gas estimate failed in the EVM without a revert (out of gas, bad opcode)."""


class ExecutionRevertedError(DevnetError):
    """A call or gas estimate reverted; ``data`` is the raw revert data."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reason = decode_revert_reason(data)
        super().__init__(
            "execution reverted" + (f": {self.reason}" if self.reason is not None else "")
        )


class StateDirError(DevnetError):
    """The state directory cannot be used (other chain id, corrupt or incomplete journal)."""


def decode_revert_reason(data: bytes) -> str | None:
    """The human reason carried by revert ``data`` (Error(string) or Panic(uint256)), if any."""
    try:
        if data[:4] == _ERROR_SELECTOR:
            return str(abi_decode(["string"], data[4:])[0])
        if data[:4] == _PANIC_SELECTOR:
            return f"panic code {int(abi_decode(['uint256'], data[4:])[0]):#x}"
    except Exception:  # malformed payloads carry no readable reason
        return None
    return None
