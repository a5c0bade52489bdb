"""The OGPU error hierarchy.

Every error is an :class:`OGPUError` (the root lives in :mod:`ogpu.ipfs` and is
re-exported here as the very same class object)::

    OGPUError
      NotFoundError: TaskNotFoundError, SourceNotFoundError, ResponseNotFoundError,
                     ProviderNotFoundError, MasterNotFoundError
      StateError: TaskExpiredError, TaskAlreadyFinalizedError,
                  ResponseAlreadyConfirmedError, SourceInactiveError
      PermissionError: NotTaskOwnerError, NotSourceOwnerError, NotMasterError, NotProviderError
      VaultError: InsufficientBalanceError, InsufficientLockupError,
                  UnbondingPeriodNotElapsedError, NotEligibleError
      TxError: TxRevertError, NonceError, GasError, InvalidRpcUrlError,
               TxReceiptTimeoutError,
               TxRpcError: RpcTransportError (could not reach the node, or no usable answer),
                           RpcNodeError (the node answered with a JSON-RPC error object)
      ConfigError: MissingSignerError, InvalidSignerError, ChainNotSupportedError
      PublishTimeoutError
      ValidationError (beyond the published SDK; also a ValueError):
               InvalidAddressError, InvalidAmountError, InvalidArgumentTypeError (also a TypeError)
      IPFSError: IPFSFetchError (IPFSTimeoutError, IPFSTooLargeError), IPFSGatewayError,
                 IPFSIntegrityError, IPFSAddressError, IPFSConfigError (from ogpu.ipfs)

``PermissionError`` here is OGPU's own class; it also subclasses the built-in
:class:`PermissionError`, so ``except PermissionError`` written against either
name catches it. Every error carries the fields its constructor names and
survives ``pickle`` (for multiprocessing and task queues). No message, repr or
field ever contains a private key.

Every error raised by a write *after* its transaction was signed (a transport failure past
the retry bound, a rejection by the node, a receipt timeout, a revert at mining...) carries
``tx_hash`` (the hash of the last signed version of the intent) and ``nonce`` as
attributes, and names both in its message, so the caller can look the transaction up before
retrying. Errors raised before signing have ``tx_hash is None``. Signed bytes are never
included.
"""

from __future__ import annotations

import builtins
from typing import Any

from ogpu.ipfs import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSError,
    IPFSFetchError,
    IPFSGatewayError,
    IPFSIntegrityError,
    IPFSTimeoutError,
    IPFSTooLargeError,
    IPFSUntrustedURLError,
    OGPUError,
)
from ogpu.types.enums import Role

__all__ = [
    "ChainNotSupportedError",
    "ConfigError",
    "FeeTooHighError",
    "GasError",
    "IPFSAddressError",
    "IPFSConfigError",
    "IPFSError",
    "IPFSFetchError",
    "IPFSGatewayError",
    "IPFSIntegrityError",
    "IPFSTimeoutError",
    "IPFSTooLargeError",
    "IPFSUntrustedURLError",
    "InsufficientBalanceError",
    "InsufficientLockupError",
    "InvalidAddressError",
    "InvalidAmountError",
    "InvalidArgumentTypeError",
    "InvalidRpcUrlError",
    "InvalidSignerError",
    "MasterNotFoundError",
    "MissingSignerError",
    "NonceError",
    "NotEligibleError",
    "NotFoundError",
    "NotMasterError",
    "NotProviderError",
    "NotSourceOwnerError",
    "NotTaskOwnerError",
    "OGPUError",
    "PermissionError",
    "ProviderNotFoundError",
    "PublishTimeoutError",
    "ResponseAlreadyConfirmedError",
    "ResponseNotFoundError",
    "RpcNodeError",
    "RpcResponseTooLargeError",
    "RpcTransportError",
    "SourceInactiveError",
    "SourceNotFoundError",
    "StateError",
    "TaskAlreadyFinalizedError",
    "TaskExpiredError",
    "TaskNotFoundError",
    "TxError",
    "TxOutcomeUnknownError",
    "TxReceiptTimeoutError",
    "TxRevertError",
    "TxRpcError",
    "UnbondingPeriodNotElapsedError",
    "ValidationError",
    "VaultError",
]


class _Fields(OGPUError):
    """Base mixin: name the signed transaction an error happened after
    (:meth:`attach_transaction`). Pickling is :class:`OGPUError`'s, from the fields."""

    #: Hash of the signed transaction this error happened after (None: nothing was signed).
    tx_hash: str | None = None
    #: Nonce of that transaction (None: nothing was signed).
    nonce: int | None = None
    _tx_suffix: str = ""

    def attach_transaction(self, tx_hash: str, nonce: int | None) -> None:
        """Record that this error was raised after ``tx_hash`` (at ``nonce``) was signed.

        Sets :attr:`tx_hash` and :attr:`nonce` and appends them to the message, so the
        caller can check whether the transaction went through. Only the hash and the nonce
        are recorded: never the key, never the signed bytes.
        """
        message = str(self.args[0]) if self.args else ""
        if "tx_hash" not in self.__dict__:  # a constructor field wins (TxReceiptTimeoutError)
            self.tx_hash = tx_hash
        self.nonce = nonce
        parts = [] if tx_hash in message else [f"transaction {tx_hash}"]
        if nonce is not None:
            parts.append(f"nonce {nonce}")
        self._tx_suffix = f" [{', '.join(parts)}]" if parts else ""
        self.args = (message + self._tx_suffix, *self.args[1:])


# --------------------------------------------------------------------------- categories


class NotFoundError(_Fields, OGPUError):
    """An address holds no contract/registration of the expected kind."""


class StateError(_Fields, OGPUError):
    """The entity's on-chain state does not allow the operation."""


class PermissionError(_Fields, OGPUError, builtins.PermissionError):
    """The signer is not allowed to perform the operation (OGPU's own class)."""


class VaultError(_Fields, OGPUError):
    """A Vault precondition (balance, lockup, unbonding, eligibility) failed."""


class TxError(_Fields, OGPUError):
    """A transaction or JSON-RPC request failed."""


class ConfigError(_Fields, OGPUError):
    """The SDK configuration (chain, RPC, signer) is unusable."""


class ValidationError(_Fields, OGPUError, ValueError):
    """An argument was rejected before any I/O."""


# --------------------------------------------------------------------------- not found


class _AddressNotFound(NotFoundError):
    _kind = "contract"

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__(f"{self._kind} not found at {address}")


class TaskNotFoundError(_AddressNotFound):
    """No Task contract at ``address``."""

    _kind = "Task"


class SourceNotFoundError(_AddressNotFound):
    """No Source contract at ``address``."""

    _kind = "Source"


class ResponseNotFoundError(_AddressNotFound):
    """No Response contract at ``address``."""

    _kind = "Response"


class ProviderNotFoundError(_AddressNotFound):
    """``address`` is not a provider announced on the Terminal."""

    _kind = "Provider"


class MasterNotFoundError(_AddressNotFound):
    """``address`` is not a master announced on the Terminal."""

    _kind = "Master"


# --------------------------------------------------------------------------- state


class TaskExpiredError(StateError):
    """The task's expiry time has passed (or the requested one already lies in the past)."""

    def __init__(self, task: str, expiry: int) -> None:
        self.task = task
        self.expiry = expiry
        super().__init__(f"task {task or '(new)'} expired (expiry time {expiry})")


class TaskAlreadyFinalizedError(StateError):
    """The task is already finalized (or otherwise closed)."""

    def __init__(self, task: str) -> None:
        self.task = task
        super().__init__(f"task {task} is already finalized")


class ResponseAlreadyConfirmedError(StateError):
    """The response has already been confirmed."""

    def __init__(self, response: str) -> None:
        self.response = response
        super().__init__(f"response {response} is already confirmed")


class SourceInactiveError(StateError):
    """The source is inactive."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__(f"source {source} is inactive")


# --------------------------------------------------------------------------- permission


class NotTaskOwnerError(PermissionError):
    """``caller`` is not the client (nor an agent of it) that owns ``task``."""

    def __init__(self, task: str, caller: str) -> None:
        self.task = task
        self.caller = caller
        super().__init__(f"{caller} is not the owner of task {task}")


class NotSourceOwnerError(PermissionError):
    """``caller`` is not the client (nor an agent of it) that owns ``source``."""

    def __init__(self, source: str, caller: str) -> None:
        self.source = source
        self.caller = caller
        super().__init__(f"{caller} is not the owner of source {source}")


class NotMasterError(PermissionError):
    """``account`` is not the master (nor an agent of it) required here."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"{account} is not the master for this operation")


class NotProviderError(PermissionError):
    """``account`` is not the provider required here."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"{account} is not the provider for this operation")


# --------------------------------------------------------------------------- vault


class InsufficientBalanceError(VaultError):
    """``account``'s liquid Vault balance ``available`` is below ``required``."""

    def __init__(self, account: str, required: int, available: int) -> None:
        self.account = account
        self.required = required
        self.available = available
        super().__init__(
            f"insufficient Vault balance for {account}: required {required}, available {available}"
        )


class InsufficientLockupError(VaultError):
    """``account``'s Vault lockup ``available`` is below ``required``."""

    def __init__(self, account: str, required: int, available: int) -> None:
        self.account = account
        self.required = required
        self.available = available
        super().__init__(
            f"insufficient Vault lockup for {account}: required {required}, available {available}"
        )


class UnbondingPeriodNotElapsedError(VaultError):
    """``account``'s unbonding matures in ``remaining_seconds``."""

    def __init__(self, account: str, remaining_seconds: int) -> None:
        self.account = account
        self.remaining_seconds = remaining_seconds
        super().__init__(
            f"unbonding period of {account} has not elapsed: {remaining_seconds} s remaining"
        )


class NotEligibleError(VaultError):
    """``account`` is not eligible (lockup too small or sanctioned)."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"{account} is not eligible")


# --------------------------------------------------------------------------- transactions


class TxRevertError(TxError):
    """The transaction (or its simulation) reverted with ``reason``.

    ``data`` holds the raw revert data (hex) when the node returned it.
    """

    def __init__(self, reason: str, data: str | None = None) -> None:
        self.reason = reason
        self.data = data
        super().__init__(f"transaction reverted: {reason}")


class NonceError(TxError):
    """Nonce ``tried`` for ``address`` was rejected; ``suggested`` is the next usable one."""

    def __init__(self, address: str, tried: int, suggested: int) -> None:
        self.address = address
        self.tried = tried
        self.suggested = suggested
        super().__init__(f"nonce {tried} rejected for {address}; next usable nonce is {suggested}")


class GasError(TxError):
    """Gas estimation or pricing failed for a reason other than a revert."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"gas error: {reason}")


class InvalidRpcUrlError(TxError):
    """The RPC URL is malformed or the node behind it does not answer."""

    def __init__(self, url: str, reason: str = "") -> None:
        self.url = url
        self.reason = reason
        suffix = f": {reason}" if reason else ""
        super().__init__(f"RPC endpoint {url!r} is not usable{suffix}")


class TxReceiptTimeoutError(TxError):
    """No receipt for ``tx_hash`` within ``timeout`` seconds (the tx may still mine)."""

    def __init__(self, tx_hash: str, timeout: float) -> None:
        self.tx_hash = tx_hash
        self.timeout = timeout
        super().__init__(f"no receipt for transaction {tx_hash} within {timeout} s")


class TxRpcError(TxError):
    """The node failed a JSON-RPC request (transport error or error object).

    ``code`` and ``data`` carry the JSON-RPC error's fields when there was one.
    """

    def __init__(self, reason: str, code: int | None = None, data: Any = None) -> None:
        self.reason = reason
        self.code = code
        self.data = data
        prefix = f"[{code}] " if code is not None else ""
        super().__init__(f"RPC error: {prefix}{reason}")


class RpcTransportError(TxRpcError):
    """Could not reach the node, or got no usable answer: connection refused or reset,
    timeout, an HTTP error status without a JSON-RPC body, an unparsable or malformed answer.

    Whether the node processed the request is unknown: a write treats it as ambiguous and looks
    the transaction up before sending it again. ``code`` and ``data`` are None.
    ``retryable`` is True for a dropped connection or a transient HTTP status (an idempotent
    read may simply be sent again); ``status`` is the HTTP status when the node answered one.
    """

    retryable: bool = False
    status: int | None = None


class RpcNodeError(TxRpcError):
    """The node answered with a JSON-RPC error object: ``code``, ``reason`` (its message) and
    ``data`` are the node's. The request reached the node and was refused or failed there."""


# --------------------------------------------------------------------------- configuration


class MissingSignerError(ConfigError):
    """No signer was given and none could be resolved (``role`` None: explicit signer required)."""

    def __init__(self, role: Role | None = None) -> None:
        self.role = role
        if role is None:
            msg = "this operation requires an explicit signer= (no environment fallback)"
        else:
            msg = (
                f"no signer given and environment variable {role.env_var} is not set; "
                f"pass signer= or set {role.env_var}"
            )
        super().__init__(msg)


class InvalidSignerError(ConfigError):
    """The signer is not a usable private key or account. Never contains the key."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"invalid signer: {reason}")


class ChainNotSupportedError(ConfigError):
    """``chain_id`` is neither a built-in nor a registered chain."""

    def __init__(self, chain_id: object) -> None:
        self.chain_id = chain_id
        super().__init__(f"chain {chain_id!r} is not supported (register it first)")


class PublishTimeoutError(_Fields, OGPUError):
    """The total publish budget ran out during ``stage``."""

    def __init__(self, budget: float, stage: str) -> None:
        self.budget = budget
        self.stage = stage
        super().__init__(f"publish budget of {budget} s exhausted during {stage}")


# --------------------------------------------------------------------------- validation


class InvalidAddressError(ValidationError):
    """``value`` is not a valid address (malformed, or a wrong EIP-55 checksum)."""

    def __init__(self, value: str, reason: str, argument: str = "address") -> None:
        # A 64-hex-digit value may be a private key passed by mistake: never keep it.
        value = _redacted(value)
        self.value = value
        self.reason = reason
        self.argument = argument
        super().__init__(f"invalid {argument} {_shown(value)}: {reason}")


class InvalidAmountError(ValidationError):
    """``value`` is not a valid amount (negative, too large or not an integer)."""

    def __init__(self, value: object, reason: str, argument: str = "amount") -> None:
        value = _redacted(value)
        self.value = value
        self.reason = reason
        self.argument = argument
        super().__init__(f"invalid {argument} {_shown(value)}: {reason}")


class InvalidArgumentTypeError(ValidationError, TypeError):
    """``argument`` has the wrong type."""

    def __init__(self, argument: str, expected: str, got: str) -> None:
        self.argument = argument
        self.expected = expected
        self.got = got
        super().__init__(f"{argument} must be {expected}, got {got}")


def _redacted(value: Any) -> Any:
    """``value`` itself when short, else a placeholder (fields never hold key-sized values)."""
    if len(repr(value)) > 44:
        return f"<{type(value).__name__} of length {len(str(value))}>"
    return value


def _shown(value: object) -> str:
    """Render a rejected value, never echoing anything long enough to be a private key."""
    text = repr(value)
    if len(text) > 44:
        return f"<{type(value).__name__} of length {len(str(value))}>"
    return text


# --------------------------------------------------------------------------- transport safety


class TxOutcomeUnknownError(TxError):
    """A send of ``tx_hash`` (at ``nonce``) may or may not have reached the node, and the node
    still cannot say after waiting: the SDK refuses to sign the intent under another nonce.

    Look ``tx_hash`` up (or wait for the nonce to be mined) before retrying the operation.
    """

    def __init__(self, tx_hash: str, nonce: int, reason: str = "") -> None:
        self.tx_hash = tx_hash
        self.nonce = nonce
        self.reason = reason
        suffix = f" ({reason})" if reason else ""
        super().__init__(
            f"outcome of transaction {tx_hash} (nonce {nonce}) is unknown: it may still be "
            f"mined; check it before retrying{suffix}"
        )


class FeeTooHighError(GasError):
    """The fee the node suggests (``fee`` wei) is above the SDK's cap ``cap`` (wei); nothing
    was signed. ``what`` names the checked quantity."""

    def __init__(self, what: str, fee: int, cap: int) -> None:
        self.what = what
        self.fee = fee
        self.cap = cap
        super().__init__(f"{what} of {fee} wei exceeds the cap of {cap} wei; refusing to sign")


class RpcResponseTooLargeError(TxRpcError):
    """A JSON-RPC answer exceeded ``limit`` bytes once decoded (compressed or not)."""

    def __init__(self, limit: int, url: str = "") -> None:
        self.limit = limit
        self.url = url
        where = f" from {url}" if url else ""
        super().__init__(f"JSON-RPC answer{where} larger than {limit} bytes")
