"""The devnet's own error root, apart from the SDK's.

``except OGPUError`` around a user's SDK calls must not swallow a broken fake node, a failed
deployment or a bad provider handler: those are :class:`DevnetError`, not
:class:`ogpu.ipfs.OGPUError`. Like the SDK's errors, each keeps its constructor arguments as
attributes of the same name and pickles by reading them back.

Every devnet error can reach a JSON-RPC client: its class carries the JSON-RPC ``code`` it is
answered with (-32000, a server error, unless a class says otherwise) and
:meth:`DevnetError.error_object` builds the ``error`` member of the answer, so the server has
one ``except DevnetError`` for them all.
"""

from __future__ import annotations

from typing import Any, TypeAlias

from eth_abi.abi import decode as abi_decode
from ogpu.ipfs import OGPUError

__all__ = [
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "REVERT_ERROR",
    "SERVER_ERROR",
    "DevnetError",
    "ErrorObject",
    "ExecutionError",
    "ExecutionRevertedError",
    "InternalError",
    "InvalidParamsError",
    "InvalidRequestError",
    "MethodNotFoundError",
    "ParseError",
    "RPCError",
    "StateDirError",
    "TransactionRejectedError",
    "decode_revert_reason",
]

#: JSON-RPC 2.0 error codes (section 5.1), geth's server error and geth's revert code.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
REVERT_ERROR = 3

ErrorObject: TypeAlias = dict[str, int | str]
"""The ``error`` member of a JSON-RPC answer: ``code``, ``message`` and maybe ``data``."""

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)


class DevnetError(Exception):
    """Root of every error the devnet (chain, JSON-RPC server, pinning service, provider
    runtime, deployment) raises."""

    #: The JSON-RPC error code a client is answered with when this error ends a request.
    code: int = SERVER_ERROR

    def __reduce__(self) -> tuple[Any, ...]:
        # The SDK root's pickling is generic (fields read back through the constructor).
        return OGPUError.__reduce__(self)  # type: ignore[arg-type]

    def rpc_message(self) -> str:
        """The ``message`` a JSON-RPC client sees (the error's text unless a class says)."""
        return str(self)

    def rpc_data(self) -> str | None:
        """The ``data`` a JSON-RPC client sees, if any."""
        return None

    def error_object(self) -> ErrorObject:
        """The ``error`` member of the JSON-RPC answer to a request this error ended."""
        error: ErrorObject = {"code": self.code, "message": self.rpc_message()}
        data = self.rpc_data()
        if data is not None:
            error["data"] = data
        return error


class RPCError(DevnetError):
    """A JSON-RPC error answer with its code, message and (optional) data given as they are."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def rpc_data(self) -> str | None:
        """The ``data`` given."""
        return self.data

    def to_json(self) -> ErrorObject:
        """The ``error`` member of the response (:meth:`error_object`)."""
        return self.error_object()


class ParseError(DevnetError):
    """A request body is not JSON the server reads (JSON-RPC -32700); the message is whole."""

    code = PARSE_ERROR


class InvalidRequestError(DevnetError):
    """A request is not a JSON-RPC 2.0 request, or a batch is refused (JSON-RPC -32600)."""

    code = INVALID_REQUEST


class MethodNotFoundError(DevnetError):
    """No method of this name is served (JSON-RPC -32601), in geth's words."""

    code = METHOD_NOT_FOUND

    def __init__(self, method: str) -> None:
        super().__init__(f"the method {method} does not exist/is not available")
        self.method = method


class InternalError(DevnetError):
    """The server failed to answer (JSON-RPC -32603); the message is whole."""

    code = INTERNAL_ERROR


class InvalidParamsError(DevnetError, ValueError):
    """A request's parameters are malformed (JSON-RPC -32602, "invalid params: ...")."""

    code = INVALID_PARAMS

    def rpc_message(self) -> str:
        """``invalid params:`` and the error's text."""
        return f"invalid params: {self}"


class TransactionRejectedError(DevnetError):
    """The node refused a transaction before execution (bad nonce, funds, chain id...)."""


class ExecutionError(DevnetError):
    """A call or gas estimate failed in the EVM without a revert (out of gas, bad opcode)."""


class ExecutionRevertedError(DevnetError):
    """A call or gas estimate reverted; ``data`` is the raw revert data (JSON-RPC code 3 with
    ``data`` the hex of the revert data, as geth and anvil answer)."""

    code = REVERT_ERROR

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reason = decode_revert_reason(data)
        super().__init__(
            "execution reverted" + (f": {self.reason}" if self.reason is not None else "")
        )

    def rpc_data(self) -> str | None:
        """The revert data in hex (none when empty)."""
        return ("0x" + self.data.hex()) if self.data else None


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
