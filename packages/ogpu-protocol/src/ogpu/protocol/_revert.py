"""Revert extraction (from any node's error shape) and mapping to typed errors.

Handled shapes:

- geth / anvil / reth: ``{"code": 3, "message": "execution reverted: X", "data": "0x08c379a0..."}``
- Hardhat: ``{"code": -32603, "message": "Error: VM Exception ... reverted with reason string 'X'",
  "data": {"message": ..., "data": "0x08c379a0..."}}``
- Ganache-style nested ``data`` objects, and plain message strings (``"revert X"``).
- Receipts with ``status == 0`` (the call is replayed at the parent block to get the reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak
from ogpu.chain._rpc import RpcErrorObject
from ogpu.chain.node_errors import revert_reason
from ogpu.types.errors import (
    InsufficientBalanceError,
    InsufficientLockupError,
    NotEligibleError,
    NotMasterError,
    NotProviderError,
    NotSourceOwnerError,
    NotTaskOwnerError,
    OGPUError,
    ResponseAlreadyConfirmedError,
    SourceInactiveError,
    TaskAlreadyFinalizedError,
    TaskExpiredError,
    TxRevertError,
    TxRpcError,
    UnbondingPeriodNotElapsedError,
)

__all__ = [
    "REVERT_REASONS",
    "RevertContext",
    "RevertInfo",
    "decode_revert",
    "extract_revert",
    "map_revert",
    "revert_mapper",
]

_ERROR_STRING = bytes.fromhex("08c379a0")
_PANIC = bytes.fromhex("4e487b71")
_HEX = re.compile(r"^0x([0-9a-fA-F]{2})*$")

#: Custom errors of the deployed ABIs (OpenZeppelin Ownable / AccessControl): selector ->
#: (name, argument types). A node returns their selector + ABI-encoded arguments.
_CUSTOM_ERRORS: dict[bytes, tuple[str, list[str]]] = {
    keccak(text=sig)[:4]: (
        sig.split("(")[0],
        [t for t in sig[sig.index("(") + 1 : -1].split(",") if t],
    )
    for sig in (
        "OwnableInvalidOwner(address)",
        "OwnableUnauthorizedAccount(address)",
        "AccessControlBadConfirmation()",
        "AccessControlUnauthorizedAccount(address,bytes32)",
    )
}

#: Operations the live Manager's roles guard on behalf of providers: an
#: ``AccessControlUnauthorizedAccount`` there means the account is not a provider.
_PROVIDER_OPERATIONS = ("register", "unregister", "attempt")

#: The documented revert strings mapped to typed errors.
REVERT_REASONS = (
    "NotOwner",
    "NotMaster",
    "NotProvider",
    "Expired",
    "AlreadyConfirmed",
    "AlreadyFinalized",
    "InsufficientBalance",
    "InsufficientLockup",
    "UnbondingNotElapsed",
    "NotEligible",
    "SourceInactive",
)


@dataclass(frozen=True)
class RevertInfo:
    """A decoded revert: ``reason`` (a string, possibly empty) and raw ``data`` (hex)."""

    reason: str
    data: str | None = None


def _walk_hex(obj: Any, depth: int = 0) -> str | None:
    if depth > 6:
        return None
    if isinstance(obj, str):
        return obj if _HEX.match(obj) and len(obj) >= 10 else None
    if isinstance(obj, dict):
        for key in ("data", "result", "returnData", "originalError", "error", "cause"):
            if key in obj:
                found = _walk_hex(obj[key], depth + 1)
                if found:
                    return found
        for value in obj.values():
            found = _walk_hex(value, depth + 1)
            if found:
                return found
    if isinstance(obj, (list, tuple)):
        for value in obj:
            found = _walk_hex(value, depth + 1)
            if found:
                return found
    return None


def _walk_messages(obj: Any, out: list[str], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for value in obj.values():
            _walk_messages(value, out, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            _walk_messages(value, out, depth + 1)


def decode_revert_data(data: str) -> str | None:
    """Decode ``Error(string)``, ``Panic(uint256)`` or a known custom error; None if unknown."""
    raw = bytes.fromhex(data[2:])
    if len(raw) < 4:
        return None
    selector, body = raw[:4], raw[4:]
    try:
        if selector == _ERROR_STRING:
            return str(abi_decode(["string"], body)[0])
        if selector == _PANIC:
            return f"Panic(0x{abi_decode(['uint256'], body)[0]:x})"
    except Exception:
        return None
    custom = _CUSTOM_ERRORS.get(selector)
    if custom is not None:
        name, types = custom
        try:
            args = abi_decode(types, body) if types else ()
        except Exception:
            return name
        shown = [a.hex() if isinstance(a, bytes) else str(a) for a in args]
        return f"{name}({', '.join(shown)})"
    return f"custom error 0x{selector.hex()}"


def extract_revert(error: Any) -> RevertInfo | None:
    """The revert carried by ``error`` (a TxRpcError, RpcErrorObject, dict, exception or string),
    or None when the error is not a revert."""
    code: Any = None
    message = ""
    data: Any = None
    if isinstance(error, (TxRpcError, RpcErrorObject)):
        code = error.code
        message = error.reason if isinstance(error, TxRpcError) else error.message
        data = error.data
    elif isinstance(error, dict):
        code, message, data = error.get("code"), str(error.get("message", "")), error.get("data")
    elif isinstance(error, BaseException):
        message = str(error)
        data = getattr(error, "data", None)
        if data is None and error.args:
            data = error.args[-1] if len(error.args) > 1 else None
    else:
        message = str(error)
    hex_data = _walk_hex(data) if data is not None else None
    if hex_data is not None:
        decoded = decode_revert_data(hex_data)
        if decoded is not None:
            return RevertInfo(decoded, hex_data)
    messages = [message]
    _walk_messages(data, messages)
    for text in messages:
        reason = revert_reason(text)
        if reason is not None:
            return RevertInfo(reason, hex_data)
    lowered = message.lower()
    if code == 3 or "revert" in lowered or hex_data == "0x":
        return RevertInfo(message if "revert" not in lowered else "", hex_data)
    return None


@dataclass
class RevertContext:
    """What an operation was doing, so a revert maps to the right typed error and fields.

    The ``lookup_*`` callables do follow-up chain reads (only when the matching revert occurs).
    """

    operation: str
    caller: str
    owner_kind: str | None = None  # "task" | "source"
    task: str | None = None
    source: str | None = None
    response: str | None = None
    account: str | None = None
    required: int | None = None
    expiry: int | None = None
    lookups: dict[str, Callable[[], Any]] = field(default_factory=dict)

    def lookup(self, name: str, default: Any) -> Any:
        """Run a follow-up read; on any failure return ``default``."""
        func = self.lookups.get(name)
        if func is None:
            return default
        try:
            return func()
        except Exception:
            return default


def _normalise(reason: str) -> str:
    text = reason.strip()
    if text.endswith("()"):
        text = text[:-2]
    return text


def map_revert(info: RevertInfo, ctx: RevertContext) -> OGPUError:
    """The typed error for a revert in ``ctx`` (follow-up reads fill balances and timers)."""
    reason = _normalise(info.reason)
    known = reason if reason in REVERT_REASONS else None
    if known is None:  # our own strings: by word boundary first ...
        for name in REVERT_REASONS:
            if re.search(rf"\b{name}\b", reason):
                known = name
                break
    if known is None:  # ... then by substring, as the published SDK (TaskExpired -> Expired)
        known = next((name for name in REVERT_REASONS if name in reason), None)
    custom = reason.split("(", 1)[0]
    if custom == "OwnableUnauthorizedAccount":
        known = "NotOwner"
    elif custom == "AccessControlUnauthorizedAccount" and any(
        op in ctx.operation.rsplit(".", 1)[-1].lower() for op in _PROVIDER_OPERATIONS
    ):
        known = "NotProvider"
    account = ctx.account or ctx.caller
    if known == "NotOwner":
        if ctx.owner_kind == "source" or (ctx.owner_kind is None and ctx.source and not ctx.task):
            return NotSourceOwnerError(ctx.source or "", ctx.caller)
        task = ctx.task or ctx.lookup("task", "")
        return NotTaskOwnerError(task, ctx.caller)
    if known == "NotMaster":
        return NotMasterError(ctx.caller)
    if known == "NotProvider":
        return NotProviderError(ctx.caller)
    if known == "Expired":
        expiry = ctx.expiry if ctx.expiry is not None else ctx.lookup("expiry", 0)
        return TaskExpiredError(ctx.task or "", int(expiry))
    if known == "AlreadyConfirmed":
        return ResponseAlreadyConfirmedError(ctx.response or "")
    if known == "AlreadyFinalized":
        return TaskAlreadyFinalizedError(ctx.task or ctx.lookup("task", ""))
    if known == "InsufficientBalance":
        required = ctx.required if ctx.required is not None else ctx.lookup("required", 0)
        return InsufficientBalanceError(account, int(required), int(ctx.lookup("balance", 0)))
    if known == "InsufficientLockup":
        required = ctx.required if ctx.required is not None else ctx.lookup("required_lockup", 0)
        return InsufficientLockupError(account, int(required), int(ctx.lookup("lockup", 0)))
    if known == "UnbondingNotElapsed":
        return UnbondingPeriodNotElapsedError(account, int(ctx.lookup("remaining", 0)))
    if known == "NotEligible":
        return NotEligibleError(account)
    if known == "SourceInactive":
        return SourceInactiveError(ctx.source or ctx.lookup("source", ""))
    return TxRevertError(info.reason or "execution reverted (no reason)", info.data)


def revert_mapper(ctx: RevertContext) -> Callable[[Any], OGPUError | None]:
    """The executor's ``revert`` callback for ``ctx``: the typed error of a revert, else None."""

    def mapper(error: Any) -> OGPUError | None:
        info = extract_revert(error)
        return None if info is None else map_revert(info, ctx)

    return mapper


def decode_revert(
    exc: BaseException | Any, *, context: str | RevertContext, caller: str
) -> OGPUError:
    """Map a revert (exception, JSON-RPC error or message) to a typed error (not raised).

    ``context`` is a :class:`RevertContext` or a free-form operation string such as
    ``"Controller.cancelTask(0x...)"``; anything unmapped becomes ``TxRevertError(reason)``.
    """
    if isinstance(context, str):
        lowered = context.lower()
        kind = "source" if "source" in lowered else "task" if "task" in lowered else None
        ctx = RevertContext(context, caller, owner_kind=kind)
    else:
        ctx = context
    info = extract_revert(exc)
    if info is None:
        info = RevertInfo(str(exc))
    return map_revert(info, ctx)
