"""py-evm's failures as the devnet's errors (:mod:`ogpu_devnet.errors`), with geth's wording."""

from __future__ import annotations

from typing import Any

from eth.exceptions import Revert

from ogpu_devnet.errors import ExecutionError, ExecutionRevertedError, TransactionRejectedError

_VM_ERRORS = {
    "OutOfGas": "out of gas",
    "InsufficientStack": "stack underflow",
    "FullStack": "stack limit reached",
    "InvalidInstruction": "invalid opcode",
    "InvalidJumpDestination": "invalid jump destination",
    "WriteProtection": "write protection",
    "InsufficientFunds": "insufficient balance for transfer",
}


def rejection_message(message: str) -> str:
    """A py-evm validation message prefixed with geth's reason (nonce, funds, fees, gas)."""
    lowered = message.lower()
    if "nonce" in lowered:
        return f"nonce too low or too high: {message}"
    if "balance" in lowered or "afford" in lowered:
        return f"insufficient funds for gas * price + value: {message}"
    if "base fee" in lowered:
        return f"max fee per gas less than block base fee: {message}"
    if "gas limit" in lowered:
        return f"exceeds block gas limit: {message}"
    return message


def rejected(exc: Exception) -> TransactionRejectedError:
    """A transaction py-evm refused before execution (its ``ValidationError``)."""
    return TransactionRejectedError(rejection_message(str(exc)))


def vm_error_message(error: Any) -> str:
    """geth's words for a failed computation's error (out of gas, invalid opcode...)."""
    name = type(error).__name__
    return _VM_ERRORS.get(name, f"execution failed: {name}")


def failed_call(computation: Any) -> ExecutionRevertedError | ExecutionError:
    """The error a failed call's computation stands for."""
    if isinstance(computation.error, Revert):
        return ExecutionRevertedError(bytes(computation.output))
    return ExecutionError(vm_error_message(computation.error))
