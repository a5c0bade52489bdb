"""Batched contract reads: many ``eth_call`` s in one JSON-RPC batch (one HTTP round trip).

Consistency: the calls of one batch go to the node together with the same block tag. A
single-round-trip read (``snapshot()``) uses ``"latest"``: a node answers a batch within
milliseconds, so the reads straddle a new block only if one lands mid-batch (nodes do not
offer a free way to pin an unknown block in the same round trip). Multi-round-trip reads
(pagination, many-instance snapshots) fetch ``eth_blockNumber`` in their first batch and pin
every later batch to that number, so pages and snapshots all describe one block. If the node
(a load-balanced replica behind the one that gave the number) does not know that block even
after the client's retries, a pinned batch raises :class:`RpcBlockUnavailableError` and
:func:`paginate` starts again, pinned to a block the node has (:data:`REPIN_ATTEMPTS`).

Read-your-writes: once the executor saw a transaction of a client mined in block N
(:attr:`RpcClient.written_block`), a ``latest`` read through that client never describes a
block before N: a replica whose head is still behind is read at block N instead (retried
within the deadline on "header not found", then :class:`RpcBlockUnavailableError`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ogpu.chain._address import is_zero, to_checksum
from ogpu.chain._rpc import (
    RpcBlockUnavailableError,
    RpcClient,
    RpcErrorObject,
    hex_int,
    is_unknown_block,
)
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.protocol import _abi
from ogpu.protocol._revert import RevertContext, extract_revert, map_revert
from ogpu.types.errors import (
    InvalidArgumentTypeError,
    OGPUError,
    TxRevertError,
    TxRpcError,
    ValidationError,
)

__all__ = [
    "PAGE_SIZE",
    "SINGLE_CALL_MAX",
    "Call",
    "CallFailure",
    "chain_time",
    "check_range",
    "list_read_error",
    "paginate",
    "read",
    "read_many",
]

#: Items per paginated contract call.
log = logging.getLogger("ogpu.chain.rpc")

PAGE_SIZE = 100

#: Largest list an absolutely indexed getter (``Source.getTasks``/``getRegistrants``) is read
#: with in one ``(0, upper - 1)`` call. Measured on the devnet: ~2.5k gas per item (a cold
#: SLOAD and the copy; plus ~0.87M fixed for the stub's static bound), so 4000 items cost
#: ~11M gas, a fifth of the 50M gas cap nodes put on ``eth_call`` (geth's default
#: ``RPCGasCap``) and 128 KB of return data. Longer lists (or
#: slices past it) use the public array getters ``tasks(i)``/``registrants(i)``, one
#: ``eth_call`` per item in the same batch: no gas cap to hit, but n calls instead of one
#: (devnet/docs/live-chain.md row 20).
SINGLE_CALL_MAX = 4000

BlockTag = str | int


@dataclass(frozen=True)
class Call:
    """One ``eth_call``: function ``name`` of ``contract`` at ``to`` with ``args``."""

    to: str
    contract: str
    name: str
    args: tuple[Any, ...] = ()

    def fn(self, chain: ChainLike) -> _abi.Fn:
        """The ABI entry for this call on ``chain``."""
        return _abi.fn(ChainConfig.get_abi_set(chain), self.contract, self.name)

    def rpc(self, chain: ChainLike, block: BlockTag) -> tuple[str, list[Any]]:
        """The JSON-RPC (method, params) pair."""
        tag = hex(block) if isinstance(block, int) else block
        return ("eth_call", [{"to": self.to, "data": self.fn(chain).encode(*self.args)}, tag])


@dataclass(frozen=True)
class CallFailure:
    """A call that reverted, hit no contract (empty return) or failed at the RPC level."""

    call: Call
    kind: str  # "empty" | "revert" | "rpc" | "decode"
    reason: str
    error: Any = None

    def to_exception(self, ctx: RevertContext | None = None) -> OGPUError:
        """A typed error for this failure."""
        if self.kind == "revert" and ctx is not None:
            info = extract_revert(self.error)
            if info is not None:
                return map_revert(info, ctx)
        if self.kind == "rpc" and isinstance(self.error, RpcErrorObject):
            return self.error.to_exception()
        return TxRpcError(f"{self.call.contract}.{self.call.name} at {self.call.to}: {self.reason}")


def _decode(call: Call, chain: ChainLike, raw: Any) -> Any:
    if isinstance(raw, RpcErrorObject):
        kind = "revert" if extract_revert(raw) is not None else "rpc"
        return CallFailure(call, kind, raw.message, raw)
    if not isinstance(raw, str) or not raw.startswith("0x"):
        return CallFailure(call, "decode", f"unexpected eth_call result {raw!r}")
    data = bytes.fromhex(raw[2:])
    fn = call.fn(chain)
    if not data and fn.outputs:
        return CallFailure(call, "empty", "no contract code answered (empty return data)")
    try:
        return fn.decode(data)
    except Exception as exc:  # eth_abi decoding errors
        return CallFailure(call, "decode", f"undecodable return data: {exc}")


def read_many(
    calls: Sequence[Call],
    chain: ChainLike | int | None = None,
    *,
    block: BlockTag = "latest",
    extra: Sequence[tuple[str, Sequence[Any]]] = (),
) -> tuple[list[Any], list[Any]]:
    """Run ``calls`` (plus raw ``extra`` requests) in one batch.

    Returns (decoded values or :class:`CallFailure` per call, raw results of ``extra``).
    """
    handle = ChainConfig.resolve(chain)
    client = ChainConfig.rpc_client(handle)
    written = client.written_block if block == "latest" else None
    if written is not None:
        raw = _read_after_write(client, handle, calls, extra, written)
    else:
        requests = [c.rpc(handle, block) for c in calls] + [(m, list(p)) for m, p in extra]
        raw = client.batch(requests)
        if isinstance(block, int):
            _check_known(raw, block)
    values = [_decode(c, handle, r) for c, r in zip(calls, raw, strict=False)]
    return values, raw[len(calls) :]


def _check_known(raw: Sequence[Any], block: int, why: str = "") -> None:
    for answer in raw:
        if isinstance(answer, RpcErrorObject) and is_unknown_block(answer.message):
            raise RpcBlockUnavailableError(
                f"block {block}{why} unknown to the node: {answer.message}", answer.code
            )


#: Where the block tag sits in the params of the methods whose ``latest`` a read after a
#: write pins to the write's block.
_TAG_INDEX = {
    "eth_call": 1,
    "eth_getBalance": 1,
    "eth_getBlockByNumber": 0,
    "eth_getCode": 1,
    "eth_getStorageAt": 2,
    "eth_getTransactionCount": 1,
}


def _read_after_write(
    client: RpcClient,
    handle: ChainLike,
    calls: Sequence[Call],
    extra: Sequence[tuple[str, Sequence[Any]]],
    written: int,
) -> list[Any]:
    """Raw answers of a ``latest`` read through a client that saw its transaction mined in
    block ``written``: never state older than that block (read-your-writes).

    The batch asks ``eth_blockNumber`` first: a node whose head is at least ``written``
    answers the ``latest`` calls after it from that head or a newer one. A head below it is
    a replica lagging behind the write (devnet/docs/live-chain.md, last row): the read is
    sent again pinned to block ``written``, which the client retries on "header not found"
    within its deadline, then raises :class:`RpcBlockUnavailableError`; the old state is
    never returned. ``eth_blockNumber`` asked in ``extra`` then answers ``written``.
    """
    requests: list[tuple[str, list[Any]]] = [("eth_blockNumber", [])]
    requests += [c.rpc(handle, "latest") for c in calls] + [(m, list(p)) for m, p in extra]
    raw = client.batch(requests)
    head = raw[0]
    try:
        current = hex_int(head) if isinstance(head, str) else -1
    except ValueError:
        current = -1
    if current >= written:
        return raw[1:]
    tag = hex(written)
    log.info(
        "node's latest block (%s) is behind block %d of this client's last transaction; "
        "reading at block %d",
        head,
        written,
        written,
    )
    pinned: list[tuple[str, list[Any]]] = []
    local: dict[int, Any] = {}
    for position, (method, params) in enumerate(extra):
        params = list(params)
        if method == "eth_blockNumber":
            local[position] = tag
            continue
        index = _TAG_INDEX.get(method)
        if index is not None:
            params += [None] * (index + 1 - len(params))
            if params[index] in (None, "latest"):
                params[index] = tag
        pinned.append((method, params))
    answers = client.batch([c.rpc(handle, written) for c in calls] + pinned)
    _check_known(answers, written, " (where this client's last transaction was mined)")
    out = answers[: len(calls)]
    rest = iter(answers[len(calls) :])
    out += [local[i] if i in local else next(rest) for i in range(len(extra))]
    return out


def read(
    calls: Sequence[Call],
    chain: ChainLike | int | None = None,
    *,
    on_failure: Callable[[CallFailure], OGPUError] | None = None,
    block: BlockTag = "latest",
) -> list[Any]:
    """Like :func:`read_many` but raises on the first failure (``on_failure`` maps it)."""
    values, _ = read_many(calls, chain, block=block)
    for value in values:
        if isinstance(value, CallFailure):
            raise (on_failure(value) if on_failure else value.to_exception())
    return values


def chain_time(chain: ChainLike | int | None = None) -> int:
    """Timestamp of the latest block: the clock the contracts compare expiry times with.

    One ``eth_getBlockByNumber`` over the chain's pooled client (default: the current chain);
    a failure raises :class:`ogpu.types.TxRpcError`. Use it rather than the local clock,
    which a devnet (``evm_increaseTime``) or a lagging node does not follow.

    Example::

        if Task(address).get_expiry_time() <= chain_time():
            print("expired")
    """
    block = ChainConfig.rpc_client(chain).request("eth_getBlockByNumber", ["latest", False])
    if not isinstance(block, dict) or not isinstance(block.get("timestamp"), str):
        raise TxRpcError(f"eth_getBlockByNumber('latest') answered {block!r}, not a block")
    return int(block["timestamp"], 16)


def check_range(lower: Any, upper: Any) -> tuple[int, int | None]:
    """Validate pagination bounds."""
    if isinstance(lower, bool) or not isinstance(lower, int):
        raise InvalidArgumentTypeError("lower", "an int", type(lower).__name__)
    if upper is not None and (isinstance(upper, bool) or not isinstance(upper, int)):
        raise InvalidArgumentTypeError("upper", "an int or None", type(upper).__name__)
    if lower < 0 or (upper is not None and upper < lower):
        raise ValidationError(
            f"invalid range lower={lower}, upper={upper}: need 0 <= lower <= upper"
        )
    return lower, upper


def list_read_error(failure: CallFailure) -> OGPUError:
    """The error for a failed list read: a revert names the getter, its bounds and the decoded
    reason (``TxRevertError``); an RPC-level failure keeps its own typed error."""
    call = failure.call
    where = f"{call.contract}.{call.name}({', '.join(str(a) for a in call.args)}) at {call.to}"
    if failure.kind == "revert":
        info = extract_revert(failure.error)
        reason = info.reason if info is not None and info.reason else failure.reason
        data = info.data if info is not None else None
        return TxRevertError(f"{where} reverted: {reason}", data)
    if failure.kind == "rpc" and isinstance(failure.error, RpcErrorObject):
        return failure.error.to_exception()
    return TxRpcError(f"{where}: {failure.reason}")


def _raise_for(
    failure: CallFailure, on_failure: Callable[[CallFailure], OGPUError] | None
) -> OGPUError:
    # Only "no contract code answered" is a NotFound (via on_failure); a revert is reported as
    # what it is, naming the getter and its bounds.
    if failure.kind == "empty" and on_failure is not None:
        return on_failure(failure)
    return list_read_error(failure)


#: How many times a pinned multi-batch read starts again when the node lost its block.
REPIN_ATTEMPTS = 3

_F = TypeVar("_F", bound=Callable[..., Any])


def _repinning(fn: _F) -> _F:
    """Run ``fn`` again (re-reading the block it pins to) when its pinned block is unknown
    to the node, at most :data:`REPIN_ATTEMPTS` times."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for attempt in range(REPIN_ATTEMPTS):
            try:
                return fn(*args, **kwargs)
            except RpcBlockUnavailableError:
                if attempt + 1 >= REPIN_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    return wrapper  # type: ignore[return-value]


@_repinning
def paginate(
    chain: ChainLike | int | None,
    count_call: Call,
    page_call: Callable[[int, int], Call],
    lower: int,
    upper: int | None,
    *,
    on_failure: Callable[[CallFailure], OGPUError] | None = None,
    drop_zero: bool = True,
    item_call: Callable[[int], Call] | None = None,
) -> tuple[list[Any], BlockTag]:
    """Read ``[lower, upper)`` (half-open, the public API) from an inclusive live getter.

    ``page_call(lo, hi)`` returns entries ``lo..hi`` BOTH inclusive and reverts
    (``Panic(0x32)``) for any index past the end (devnet/docs/live-chain.md rows 1-2): pages are
    ``(lo, min(lo + 100, upper) - 1)``, all in one batch. With ``item_call`` the getter indexes
    absolutely (``Source.getTasks``/``getRegistrants`` revert whenever ``lo > 0``, row 5): up
    to :data:`SINGLE_CALL_MAX` items it is one ``(0, upper - 1)`` call sliced locally, beyond
    that ``item_call(i)`` (the public array getter) per index, batched.

    With ``upper=None`` the count is read first (with the block number, which pins the pages):
    at most 2 round trips for any list that fits the batch cap. Zero addresses are dropped
    (``drop_zero``). A revert raises ``TxRevertError`` naming the getter and bounds; only a
    contract without code is ``on_failure``'s (NotFound) business. Returns (items, block tag).
    """
    lower, upper = check_range(lower, upper)
    handle = ChainConfig.resolve(chain)
    block: BlockTag = "latest"
    if upper is None:
        values, extra = read_many([count_call], handle, extra=[("eth_blockNumber", [])])
        count = values[0]
        if isinstance(count, CallFailure):
            raise _raise_for(count, on_failure)
        block = hex_int(extra[0])
        upper = int(count)
    if upper <= lower:
        return [], block
    skip = 0
    single_items = False
    if item_call is None:
        calls = [
            page_call(lo, min(lo + PAGE_SIZE, upper) - 1) for lo in range(lower, upper, PAGE_SIZE)
        ]
    elif upper <= SINGLE_CALL_MAX:
        calls, skip = [page_call(0, upper - 1)], lower
    else:
        calls, single_items = [item_call(i) for i in range(lower, upper)], True
    # Without a count read the block is still unknown: ask for it in the same batch (no extra
    # round trip), so that follow-up reads (e.g. snapshots of the items) can pin to it.
    extra = [("eth_blockNumber", [])] if block == "latest" else []
    pages, extra_raw = read_many(calls, handle, block=block, extra=extra)
    for page in pages:
        if isinstance(page, CallFailure):
            raise _raise_for(page, on_failure)
    if extra_raw and isinstance(extra_raw[0], str):
        block = hex_int(extra_raw[0])
    flat: list[Any] = list(pages) if single_items else [x for page in pages for x in page]
    items: list[Any] = []
    for item in flat[skip:]:
        if drop_zero and isinstance(item, str) and is_zero(item):
            continue
        items.append(to_checksum(item) if isinstance(item, str) else item)
    return items, block
