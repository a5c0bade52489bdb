"""JSON-RPC 2.0 over HTTP for the devnet chain, answering the way geth and anvil answer.

The server binds loopback by default, serves each connection in its own thread and executes
everything against one :class:`~ogpu_devnet.chain.DevnetChain` whose lock serialises state access.
Reverts are reported as geth and anvil report them (``code`` 3, ``message`` "execution reverted:
<reason>", ``data`` the raw revert data) so web3.py raises ``ContractLogicError`` with the reason.
Malformed requests get JSON-RPC errors (-32700, -32600, -32601, -32602), never a dead server.

Bounds: request bodies of at most :data:`MAX_BODY_BYTES`, JSON nested at most
:data:`MAX_JSON_DEPTH` deep (checked in linear time before decoding), request ids that are not
a string, an integer or null (``NaN``, ``1e999``, objects) answered -32600 with id null,
batches of at most ``max_batch`` calls, at most :data:`MAX_MINE_BLOCKS` blocks per mine call
(mined :data:`MINE_CHUNK` at a time, so other clients run in between), polled filters dropped
after :data:`FILTER_TIMEOUT` idle seconds, and a listen backlog of :data:`LISTEN_BACKLOG`.

Fault knobs (:class:`Knobs`, ``RPCServer.knobs``; ``Devnet`` and ``ogpu-devnet serve`` expose
them) make the server behave like the live network's load-balanced replicas:

- ``no_batch``: every batch is refused (HTTP 400, one error object "batch requests are not
  supported"); ``max_batch``: batches larger are refused as geth refuses them (HTTP 200, one
  error object "batch too large (max N)").
- ``lag(requests, blocks)``: the next ``requests`` HTTP requests are answered by a replica
  ``blocks`` behind the head: ``eth_blockNumber`` and ``latest`` say head - blocks, a call
  pinned to a newer block answers -32000 "header not found", ``eth_getBlockByNumber`` of a
  newer block ``null``, and a transaction mined in a newer block (or pending) is unknown
  (``null`` from ``eth_getTransactionByHash`` / ``eth_getTransactionReceipt``).
- ``drop_after(method, times)``: the next ``times`` HTTP requests calling ``method`` (alone or
  in a batch) are executed, then the connection is closed before the answer is written.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import math
import operator
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ogpu_devnet._format import (
    block_rewards,
    format_block,
    format_log,
    format_receipt,
    format_tx,
)
from ogpu_devnet._serving import ThreadedServing
from ogpu_devnet._version import __version__
from ogpu_devnet.chain import (
    CallParams,
    DevnetChain,
    DevnetError,
    ExecutionError,
    ExecutionRevertedError,
    InvalidParamsError,
    LogFilter,
    TransactionRejectedError,
)

logger = logging.getLogger("ogpu_devnet.rpc")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SERVER_ERROR = -32000
REVERT_ERROR = 3

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_BATCH = 1000
MAX_LOG_RANGE = 100_000
MAX_JSON_DEPTH = 64
_TAGS = ("latest", "earliest", "pending", "safe", "finalized")
# A whole string (possessive unrolled loop: no backtracking), or an unterminated string's quote.
_JSON_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
# Openers become 2, closers 0: after k brackets the running sum minus k is the depth.
_BRACKET_WEIGHTS = bytes(2 if b in b"[{" else 0 for b in range(256))
#: Most blocks one ``evm_mine``/``hardhat_mine``/``anvil_mine`` call may mine (above: -32602).
MAX_MINE_BLOCKS = 10_000
#: Blocks mined per hold of the chain lock by a multi-block mine (other clients run between).
MINE_CHUNK = 256
#: Seconds a polled filter lives without being polled (geth: 5 minutes).
FILTER_TIMEOUT = 300.0
#: Pending connections the listening socket queues (socketserver's default of 5 resets
#: clients under a burst of concurrent connects).
LISTEN_BACKLOG = 512
_PRIORITY_FEE = 10**9


class RPCError(Exception):
    """A JSON-RPC error answer (internal to the server; never leaves it as an exception)."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        """The ``error`` member of the response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


class Lag(NamedTuple):
    """How one request is answered by a lagging replica."""

    blocks: int
    stale_latest: bool = True


class Knobs:
    """Fault knobs of one server (thread-safe); see the module docstring."""

    def __init__(self, *, max_batch: int = MAX_BATCH, no_batch: bool = False) -> None:
        """Start with the given batch policy, no lag and no drops."""
        self._lock = threading.Lock()
        self.max_batch = max_batch
        self.no_batch = no_batch
        self._lag_requests = 0
        self._lag_blocks = 1
        self._lag_every = 1
        self._lag_seen = 0
        self._lag_stale_latest = True
        self._lag_after = 0
        self._drops: dict[str, int] = {}
        #: HTTP requests and JSON-RPC calls received (see :meth:`counts`).
        self._http_requests = 0
        self._calls = 0

    def counts(self, *, reset: bool = False) -> tuple[int, int]:
        """(HTTP requests, JSON-RPC calls) received so far (then zeroed if ``reset``)."""
        with self._lock:
            counts = (self._http_requests, self._calls)
            if reset:
                self._http_requests = self._calls = 0
            return counts

    def _count(self, calls: int) -> None:
        with self._lock:
            self._http_requests += 1
            self._calls += calls

    def set_batching(self, *, max_batch: int | None = None, no_batch: bool = False) -> None:
        """Refuse every batch (``no_batch``) or those above ``max_batch`` (None: 1000)."""
        if max_batch is not None and max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        with self._lock:
            self.max_batch = MAX_BATCH if max_batch is None else max_batch
            self.no_batch = no_batch

    def lag(
        self,
        requests: int,
        blocks: int = 1,
        *,
        every: int = 1,
        stale_latest: bool = True,
        after: int = 0,
    ) -> None:
        """Answer the next ``requests`` HTTP requests as a replica ``blocks`` behind.

        ``after``: first let that many requests through to an up-to-date replica.
        ``every``: only every ``every``-th of them lags (a load balancer with one replica
        behind). ``stale_latest=False``: the replica already serves the newest state for
        ``latest`` and ``eth_blockNumber``, only its block and transaction indexes lag (pinned
        reads answer "header not found", new transactions are not found yet).
        """
        if requests < 0 or blocks < 1 or every < 1 or after < 0:
            raise ValueError("lag needs requests >= 0, blocks >= 1, every >= 1, after >= 0")
        with self._lock:
            self._lag_requests = requests
            self._lag_blocks = blocks
            self._lag_every = every
            self._lag_seen = 0
            self._lag_stale_latest = stale_latest
            self._lag_after = after

    def drop_after(self, method: str, times: int = 1) -> None:
        """Execute, then hang up without answering, the next ``times`` requests of ``method``."""
        if times < 0:
            raise ValueError("times must not be negative")
        with self._lock:
            if times:
                self._drops[method] = self._drops.get(method, 0) + times
            else:
                self._drops.pop(method, None)

    def reset(self) -> None:
        """End the lag and forget pending drops (the batch policy stays)."""
        with self._lock:
            self._lag_requests = 0
            self._drops.clear()

    @property
    def lag_remaining(self) -> int:
        """HTTP requests still to be answered as a lagging replica."""
        with self._lock:
            return self._lag_requests

    def _take_lag(self) -> Lag | None:
        with self._lock:
            if self._lag_requests <= 0:
                return None
            if self._lag_after > 0:
                self._lag_after -= 1
                return None
            self._lag_requests -= 1
            self._lag_seen += 1
            if (self._lag_seen - 1) % self._lag_every:
                return None
            return Lag(self._lag_blocks, self._lag_stale_latest)

    def _take_drop(self, methods: list[str]) -> bool:
        with self._lock:
            for method in methods:
                left = self._drops.get(method, 0)
                if left > 0:
                    if left == 1:
                        del self._drops[method]
                    else:
                        self._drops[method] = left - 1
                    return True
            return False


# --------------------------------------------------------------------------- parsing


def _quantity(value: Any, what: str = "quantity") -> int:
    if isinstance(value, bool):
        raise InvalidParamsError(f"invalid {what}: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise InvalidParamsError(f"invalid {what}: negative")
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise InvalidParamsError(f"invalid {what}: {value!r} (expected a 0x-prefixed hex number)")


def _data(value: Any, what: str = "data") -> bytes:
    if isinstance(value, str) and value[:2] in ("0x", "0X"):
        body = value[2:]
        if len(body) % 2:
            body = "0" + body
        try:
            return bytes.fromhex(body)
        except ValueError:
            pass
    raise InvalidParamsError(f"invalid {what}: expected 0x-prefixed hex bytes")


def _address(value: Any) -> bytes:
    raw = _data(value, "address")
    if len(raw) != 20:
        raise InvalidParamsError("invalid address: expected 20 bytes")
    return raw


def _hash32(value: Any, what: str = "hash") -> bytes:
    raw = _data(value, what)
    if len(raw) != 32:
        raise InvalidParamsError(f"invalid {what}: expected 32 bytes")
    return raw


def _hex(value: int) -> str:
    return hex(value)


def _hexdata(value: bytes | None) -> str | None:
    return None if value is None else "0x" + bytes(value).hex()


def _param(params: list[Any], index: int, default: Any = None) -> Any:
    return params[index] if len(params) > index and params[index] is not None else default


def _too_deep(body: bytes) -> bool:
    """Whether ``body`` nests JSON arrays/objects deeper than :data:`MAX_JSON_DEPTH`.

    Checked before ``json.loads``: py-evm's dependencies raise the interpreter's recursion limit
    to 100 000, so a deeply nested body would overflow the C stack inside the JSON decoder and
    kill the whole process instead of raising ``RecursionError``.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    # Linear time: each string is matched once without backtracking (an unterminated one ends
    # the scan: the decoder stops there too), then the depth after each bracket outside the
    # strings is computed by C-level iterators (no Python loop per byte).
    parts = []
    pos = 0
    for match in _JSON_STRING.finditer(body):
        parts.append(body[pos : match.start()])
        pos = match.end()
        if pos - match.start() == 1:
            pos = len(body)
            break
    parts.append(body[pos:])
    weights = b"".join(parts).translate(_BRACKET_WEIGHTS, _NOT_BRACKETS)
    total = 0
    for start in range(0, len(weights), 65536):  # in chunks, to stop early
        chunk = weights[start : start + 65536]
        sums = itertools.accumulate(chunk, initial=total)
        if max(map(operator.sub, sums, itertools.count(start))) > MAX_JSON_DEPTH:
            return True
        total += sum(chunk)
    return False


# --------------------------------------------------------------------------- formatting


# --------------------------------------------------------------------------- filters


# Most positional parameters each method takes (geth answers more with -32602 "too many
# arguments"); methods not listed take none.
_MAX_PARAMS: dict[str, int] = {
    "web3_sha3": 1,
    "eth_feeHistory": 3,
    "eth_getBlockByNumber": 2,
    "eth_getBlockByHash": 2,
    "eth_getBlockTransactionCountByNumber": 1,
    "eth_getBlockTransactionCountByHash": 1,
    "eth_getBlockReceipts": 1,
    "eth_getUncleCountByBlockNumber": 1,
    "eth_getUncleCountByBlockHash": 1,
    "eth_getBalance": 2,
    "eth_getTransactionCount": 2,
    "eth_getCode": 2,
    "eth_getStorageAt": 3,
    "eth_call": 3,
    "eth_estimateGas": 3,
    "eth_sendRawTransaction": 1,
    "eth_sendTransaction": 1,
    "eth_getTransactionByHash": 1,
    "eth_getTransactionByBlockNumberAndIndex": 2,
    "eth_getTransactionByBlockHashAndIndex": 2,
    "eth_getTransactionReceipt": 1,
    "eth_getLogs": 1,
    "eth_newFilter": 1,
    "eth_newPendingTransactionFilter": 1,
    "eth_getFilterChanges": 1,
    "eth_getFilterLogs": 1,
    "eth_uninstallFilter": 1,
    "evm_increaseTime": 1,
    "evm_setNextBlockTimestamp": 1,
    "evm_mine": 1,
    "hardhat_mine": 2,
    "evm_revert": 1,
    "evm_setAutomine": 1,
    "anvil_setAutomine": 1,
}


@dataclass
class _Filter:
    kind: str  # "logs" | "blocks" | "pending"
    cursor: int  # next block number to scan
    spec: dict[str, Any] | None = None
    last_used: float = field(default_factory=time.monotonic)


# Where the block tag sits in each method's params (for a lagging replica's view).
_TAG_INDEX = {
    "eth_call": 1,
    "eth_estimateGas": 1,
    "eth_getBalance": 1,
    "eth_getCode": 1,
    "eth_getStorageAt": 2,
    "eth_getTransactionCount": 1,
    "eth_getBlockByNumber": 0,
    "eth_getBlockTransactionCountByNumber": 0,
    "eth_getBlockReceipts": 0,
}


class RPCMethods:
    """The JSON-RPC methods, each taking the positional ``params`` list."""

    def __init__(self, chain: DevnetChain) -> None:
        """Serve ``chain``."""
        self.chain = chain
        #: Idle seconds after which a polled filter is dropped (geth: 5 minutes).
        self.filter_timeout = FILTER_TIMEOUT
        self._filters: dict[int, _Filter] = {}
        self._filter_counter = 0
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            name[len("rpc_") :]: getattr(self, name)
            for name in dir(self)
            if name.startswith("rpc_")
        }
        aliases = {
            "anvil_snapshot": "evm_snapshot",
            "anvil_revert": "evm_revert",
            "anvil_increaseTime": "evm_increaseTime",
            "anvil_setNextBlockTimestamp": "evm_setNextBlockTimestamp",
            "anvil_mine": "hardhat_mine",
            "hardhat_getAutomine": "anvil_getAutomine",
        }
        for alias, target in aliases.items():
            self.methods[alias] = self.methods[target]
        chain.add_revert_listener(self._on_revert)

    def _on_revert(self, head: int) -> None:
        # Blocks after the new head are gone; filters resume right after it.
        for flt in self._filters.values():
            flt.cursor = min(flt.cursor, head + 1)

    # ------------------------------------------------------------------ helpers

    def _block_number_param(self, value: Any, default: str = "latest") -> int | str:
        if value is None:
            return default
        if isinstance(value, dict):
            if "blockHash" in value:
                block = self.chain.block_by_hash(_hash32(value["blockHash"], "block hash"))
                if block is None:
                    raise InvalidParamsError("unknown block hash")
                return int(block.number)
            if "blockNumber" in value:
                return self._block_number_param(value["blockNumber"], default)
            raise InvalidParamsError("invalid block identifier object")
        if isinstance(value, str) and value in _TAGS:
            return value
        number = _quantity(value, "block number")
        return number

    def _state_tag(self, value: Any) -> int | str:
        tag = self._block_number_param(value)
        if isinstance(tag, int) and tag > self.chain.block_number():
            raise InvalidParamsError(f"header not found: block {tag} is not mined yet")
        return tag

    def _call_params(self, tx: Any) -> CallParams:
        if not isinstance(tx, dict):
            raise InvalidParamsError("transaction must be an object")
        data = tx.get("input", tx.get("data"))
        return CallParams(
            sender=_address(tx["from"]) if tx.get("from") else b"\x00" * 20,
            to=_address(tx["to"]) if tx.get("to") else b"",
            gas=_quantity(tx["gas"], "gas") if tx.get("gas") is not None else None,
            value=_quantity(tx["value"], "value") if tx.get("value") is not None else 0,
            data=_data(data) if data is not None else b"",
        )

    def _canonical(self, number: int) -> Any:
        block = self.chain.block_by_number(number)
        if block is None:
            raise RPCError(SERVER_ERROR, f"block {number} not found")
        return block

    def _block_for(self, tag: int | str) -> Any | None:
        if tag == "pending":
            return None
        return self.chain.block_by_number(self.chain.resolve_number(tag))

    # ------------------------------------------------------------------ web3 / net

    def rpc_web3_clientVersion(self, params: list[Any]) -> str:
        return f"ogpu-devnet/v{__version__}/py-evm"

    def rpc_web3_sha3(self, params: list[Any]) -> str:
        return "0x" + keccak(_data(_param(params, 0))).hex()

    def rpc_net_version(self, params: list[Any]) -> str:
        return str(self.chain.chain_id)

    def rpc_net_listening(self, params: list[Any]) -> bool:
        return True

    def rpc_net_peerCount(self, params: list[Any]) -> str:
        return "0x0"

    # ------------------------------------------------------------------ chain info

    def rpc_eth_chainId(self, params: list[Any]) -> str:
        return _hex(self.chain.chain_id)

    def rpc_eth_syncing(self, params: list[Any]) -> bool:
        return False

    def rpc_eth_mining(self, params: list[Any]) -> bool:
        return self.chain.automine

    def rpc_eth_coinbase(self, params: list[Any]) -> str:
        return to_checksum_address(b"\x00" * 20)

    def rpc_eth_accounts(self, params: list[Any]) -> list[str]:
        return [a.address for a in self.chain.accounts]

    def rpc_eth_blockNumber(self, params: list[Any]) -> str:
        return _hex(self.chain.block_number())

    def rpc_eth_gasPrice(self, params: list[Any]) -> str:
        return _hex(self.chain.next_base_fee() + _PRIORITY_FEE)

    def rpc_eth_maxPriorityFeePerGas(self, params: list[Any]) -> str:
        return _hex(_PRIORITY_FEE)

    def rpc_eth_blobBaseFee(self, params: list[Any]) -> str:
        return "0x1"

    def rpc_eth_feeHistory(self, params: list[Any]) -> dict[str, Any]:
        count = _quantity(_param(params, 0), "block count")
        newest_tag = self._block_number_param(_param(params, 1))
        percentiles = _param(params, 2, [])
        if not isinstance(percentiles, list) or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 100
            for p in percentiles
        ):
            raise InvalidParamsError("reward percentiles must be numbers between 0 and 100")
        if percentiles != sorted(percentiles):
            raise InvalidParamsError("reward percentiles must be ascending")
        with self.chain.lock:
            latest = self.chain.block_number()
            newest = min(self.chain.resolve_number(newest_tag), latest)
            count = max(1, min(count, 1024, newest + 1))
            oldest = newest - count + 1
            base_fees: list[str] = []
            ratios: list[float] = []
            rewards: list[list[str]] = []
            for number in range(oldest, newest + 1):
                block = self._canonical(number)
                header = block.header
                base_fees.append(_hex(header.base_fee_per_gas))
                ratios.append(header.gas_used / header.gas_limit)
                if percentiles:
                    rewards.append(block_rewards(self.chain, block, percentiles))
            if newest == latest:
                base_fees.append(_hex(self.chain.next_base_fee()))
            else:
                base_fees.append(_hex(self._canonical(newest + 1).header.base_fee_per_gas))
        result: dict[str, Any] = {
            "oldestBlock": _hex(oldest),
            "baseFeePerGas": base_fees,
            "gasUsedRatio": ratios,
            "baseFeePerBlobGas": ["0x1"] * len(base_fees),
            "blobGasUsedRatio": [0.0] * len(ratios),
        }
        if percentiles:
            result["reward"] = rewards
        return result

    # ------------------------------------------------------------------ blocks

    def rpc_eth_getBlockByNumber(self, params: list[Any]) -> dict[str, Any] | None:
        tag = self._block_number_param(_param(params, 0))
        full = bool(_param(params, 1, False))
        with self.chain.lock:
            if tag == "pending":
                return format_block(self.chain.pending_block(), full, pending=True)
            block = self._block_for(tag)
            return None if block is None else format_block(block, full)

    def rpc_eth_getBlockByHash(self, params: list[Any]) -> dict[str, Any] | None:
        block_hash = _hash32(_param(params, 0), "block hash")
        full = bool(_param(params, 1, False))
        with self.chain.lock:
            block = self.chain.block_by_hash(block_hash)
            return None if block is None else format_block(block, full)

    def rpc_eth_getBlockTransactionCountByNumber(self, params: list[Any]) -> str | None:
        tag = self._block_number_param(_param(params, 0))
        with self.chain.lock:
            block = self.chain.pending_block() if tag == "pending" else self._block_for(tag)
            return None if block is None else _hex(len(block.transactions))

    def rpc_eth_getBlockTransactionCountByHash(self, params: list[Any]) -> str | None:
        block = self.chain.block_by_hash(_hash32(_param(params, 0), "block hash"))
        return None if block is None else _hex(len(block.transactions))

    def rpc_eth_getBlockReceipts(self, params: list[Any]) -> list[dict[str, Any]] | None:
        tag = self._block_number_param(_param(params, 0))
        with self.chain.lock:
            block = self._block_for(tag)
            if block is None:
                return None
            return [
                format_receipt(self.chain, block, tx, i) for i, tx in enumerate(block.transactions)
            ]

    def rpc_eth_getUncleCountByBlockNumber(self, params: list[Any]) -> str:
        return "0x0"

    def rpc_eth_getUncleCountByBlockHash(self, params: list[Any]) -> str:
        return "0x0"

    # ------------------------------------------------------------------ state

    def rpc_eth_getBalance(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        return _hex(self.chain.get_balance(address, self._state_tag(_param(params, 1))))

    def rpc_eth_getTransactionCount(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        return _hex(self.chain.get_nonce(address, self._state_tag(_param(params, 1))))

    def rpc_eth_getCode(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        return "0x" + self.chain.get_code(address, self._state_tag(_param(params, 1))).hex()

    def rpc_eth_getStorageAt(self, params: list[Any]) -> str:
        address = _address(_param(params, 0))
        slot = _quantity(_param(params, 1), "storage slot")
        if slot >= 2**256:
            raise InvalidParamsError("storage slot out of range")
        value = self.chain.get_storage(address, slot, self._state_tag(_param(params, 2)))
        return "0x" + value.to_bytes(32, "big").hex()

    # ------------------------------------------------------------------ execution

    def rpc_eth_call(self, params: list[Any]) -> str:
        if _param(params, 2):
            raise InvalidParamsError("state overrides are not supported")
        call = self._call_params(_param(params, 0))
        return "0x" + self.chain.call(call, self._state_tag(_param(params, 1))).hex()

    def rpc_eth_estimateGas(self, params: list[Any]) -> str:
        call = self._call_params(_param(params, 0))
        return _hex(self.chain.estimate_gas(call, self._state_tag(_param(params, 1))))

    def rpc_eth_sendRawTransaction(self, params: list[Any]) -> str:
        raw = _data(_param(params, 0), "raw transaction")
        if not raw:
            raise InvalidParamsError("empty raw transaction")
        return "0x" + self.chain.send_raw_transaction(raw).hex()

    def rpc_eth_sendTransaction(self, params: list[Any]) -> str:
        tx = _param(params, 0)
        if not isinstance(tx, dict) or not tx.get("from"):
            raise InvalidParamsError("transaction must be an object with a 'from' address")
        fields: dict[str, Any] = {"from": to_checksum_address(_address(tx["from"]))}
        if tx.get("to"):
            fields["to"] = to_checksum_address(_address(tx["to"]))
        for key in ("gas", "gasPrice", "maxFeePerGas", "maxPriorityFeePerGas", "value", "nonce"):
            if tx.get(key) is not None:
                fields[key] = _quantity(tx[key], key)
        data = tx.get("input", tx.get("data"))
        if data is not None:
            fields["data"] = "0x" + _data(data).hex()
        return "0x" + self.chain.send_transaction(fields).hex()

    # ------------------------------------------------------------------ lookups

    def rpc_eth_getTransactionByHash(self, params: list[Any]) -> dict[str, Any] | None:
        tx_hash = _hash32(_param(params, 0), "transaction hash")
        with self.chain.lock:
            found = self.chain.find_transaction(tx_hash)
            if found is None:
                pending = self.chain.pending_transaction(tx_hash)
                return None if pending is None else format_tx(pending, None, None)
            block, tx, index = found
            return format_tx(tx, block, index)

    def rpc_eth_getTransactionByBlockNumberAndIndex(
        self, params: list[Any]
    ) -> dict[str, Any] | None:
        tag = self._block_number_param(_param(params, 0))
        index = _quantity(_param(params, 1), "index")
        with self.chain.lock:
            block = self._block_for(tag)
            if block is None or index >= len(block.transactions):
                return None
            return format_tx(block.transactions[index], block, index)

    def rpc_eth_getTransactionByBlockHashAndIndex(self, params: list[Any]) -> dict[str, Any] | None:
        index = _quantity(_param(params, 1), "index")
        with self.chain.lock:
            block = self.chain.block_by_hash(_hash32(_param(params, 0), "block hash"))
            if block is None or index >= len(block.transactions):
                return None
            return format_tx(block.transactions[index], block, index)

    def rpc_eth_getTransactionReceipt(self, params: list[Any]) -> dict[str, Any] | None:
        with self.chain.lock:
            found = self.chain.find_transaction(_hash32(_param(params, 0), "transaction hash"))
            if found is None:
                return None
            block, tx, index = found
            return format_receipt(self.chain, block, tx, index)

    # ------------------------------------------------------------------ logs and filters

    def _log_spec(self, raw: Any) -> dict[str, Any]:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise InvalidParamsError("filter must be an object")
        address = raw.get("address")
        if address is None:
            addresses: tuple[bytes, ...] = ()
        elif isinstance(address, list):
            addresses = tuple(_address(a) for a in address)
        else:
            addresses = (_address(address),)
        topics_raw = raw.get("topics") or []
        if not isinstance(topics_raw, list) or len(topics_raw) > 4:
            raise InvalidParamsError("topics must be a list of at most 4 entries")
        topics: list[tuple[bytes, ...] | None] = []
        for entry in topics_raw:
            if entry is None:
                topics.append(None)
            elif isinstance(entry, list):
                topics.append(tuple(_hash32(t, "topic") for t in entry) if entry else None)
            else:
                topics.append((_hash32(entry, "topic"),))
        block_hash = raw.get("blockHash")
        if block_hash is not None and ("fromBlock" in raw or "toBlock" in raw):
            raise InvalidParamsError("blockHash cannot be combined with fromBlock/toBlock")
        return {
            "from": self._block_number_param(raw.get("fromBlock")),
            "to": self._block_number_param(raw.get("toBlock")),
            "explicit_from": raw.get("fromBlock") not in (None, "latest", "pending"),
            "addresses": addresses,
            "topics": tuple(topics),
            "block_hash": _hash32(block_hash, "block hash") if block_hash is not None else None,
        }

    def _filter_for(
        self, spec: dict[str, Any], *, start: int | None = None, end: int | None = None
    ) -> LogFilter:
        latest = self.chain.block_number()
        from_block = min(self.chain.resolve_number(spec["from"]), latest + 1)
        to_block = min(self.chain.resolve_number(spec["to"]), latest)
        if start is not None:
            from_block = max(from_block, start)
        if end is not None:
            to_block = min(to_block, end)
        return LogFilter(
            from_block=from_block,
            to_block=to_block,
            addresses=spec["addresses"],
            topics=spec["topics"],
            block_hash=spec["block_hash"],
        )

    def rpc_eth_getLogs(self, params: list[Any]) -> list[dict[str, Any]]:
        spec = self._log_spec(_param(params, 0))
        with self.chain.lock:
            log_filter = self._filter_for(spec)
            if (
                log_filter.block_hash is None
                and log_filter.to_block - log_filter.from_block > MAX_LOG_RANGE
            ):
                raise InvalidParamsError(f"block range too large (max {MAX_LOG_RANGE})")
            return [format_log(e) for e in self.chain.get_logs(log_filter)]

    def _expire_filters(self) -> None:
        """Drop filters idle for longer than :attr:`filter_timeout` (call under the lock)."""
        limit = time.monotonic() - self.filter_timeout
        for fid in [fid for fid, flt in self._filters.items() if flt.last_used < limit]:
            del self._filters[fid]

    def _new_filter_id(self, flt: _Filter) -> str:
        with self.chain.lock:
            self._expire_filters()
            self._filter_counter += 1
            self._filters[self._filter_counter] = flt
            return _hex(self._filter_counter)

    def rpc_eth_newFilter(self, params: list[Any]) -> str:
        spec = self._log_spec(_param(params, 0))
        with self.chain.lock:
            latest = self.chain.block_number()
            if spec["block_hash"] is not None:
                raise InvalidParamsError("blockHash filters cannot be polled; use eth_getLogs")
            cursor = latest + 1
            if spec["explicit_from"]:
                cursor = min(self.chain.resolve_number(spec["from"]), latest + 1)
            # A polled filter's symbolic start ("latest") means "from its creation on".
            spec["from"] = cursor
            return self._new_filter_id(_Filter("logs", cursor, spec))

    def rpc_eth_newBlockFilter(self, params: list[Any]) -> str:
        with self.chain.lock:
            return self._new_filter_id(_Filter("blocks", self.chain.block_number() + 1))

    def rpc_eth_newPendingTransactionFilter(self, params: list[Any]) -> str:
        with self.chain.lock:
            return self._new_filter_id(_Filter("pending", self.chain.block_number() + 1))

    def _get_filter(self, params: list[Any]) -> tuple[int, _Filter]:
        fid = _quantity(_param(params, 0), "filter id")
        self._expire_filters()
        flt = self._filters.get(fid)
        if flt is None:
            raise RPCError(SERVER_ERROR, "filter not found")
        flt.last_used = time.monotonic()
        return fid, flt

    def rpc_eth_getFilterChanges(self, params: list[Any]) -> list[Any]:
        with self.chain.lock:
            _, flt = self._get_filter(params)
            latest = self.chain.block_number()
            start = min(flt.cursor, latest + 1)  # a revert may have shortened the chain
            flt.cursor = latest + 1
            if flt.kind == "pending":
                return []
            if flt.kind == "blocks":
                return [_hexdata(self._canonical(n).hash) for n in range(start, latest + 1)]
            assert flt.spec is not None
            log_filter = self._filter_for(flt.spec, start=start, end=latest)
            return [format_log(e) for e in self.chain.get_logs(log_filter)]

    def rpc_eth_getFilterLogs(self, params: list[Any]) -> list[dict[str, Any]]:
        with self.chain.lock:
            _, flt = self._get_filter(params)
            if flt.kind != "logs" or flt.spec is None:
                raise RPCError(SERVER_ERROR, "filter is not a log filter")
            return [format_log(e) for e in self.chain.get_logs(self._filter_for(flt.spec))]

    def rpc_eth_uninstallFilter(self, params: list[Any]) -> bool:
        fid = _quantity(_param(params, 0), "filter id")
        with self.chain.lock:
            return self._filters.pop(fid, None) is not None

    # ------------------------------------------------------------------ test controls

    def rpc_evm_increaseTime(self, params: list[Any]) -> int:
        return self.chain.increase_time(_quantity(_param(params, 0), "seconds"))

    def rpc_evm_setNextBlockTimestamp(self, params: list[Any]) -> None:
        self.chain.set_next_block_timestamp(_quantity(_param(params, 0), "timestamp"))

    def rpc_evm_mine(self, params: list[Any]) -> str:
        arg = _param(params, 0)
        if isinstance(arg, dict):
            ts = arg.get("timestamp")
            blocks = _quantity(arg.get("blocks", 1), "blocks")
            self._mine(blocks, timestamp=None if ts is None else _quantity(ts, "timestamp"))
        else:
            self.chain.mine(1, timestamp=None if arg is None else _quantity(arg, "timestamp"))
        return "0x0"

    def rpc_hardhat_mine(self, params: list[Any]) -> None:
        count = _quantity(_param(params, 0, 1), "block count")
        interval = _quantity(_param(params, 1, 1), "interval")
        self._mine(count, interval=max(1, interval))

    def _mine(self, count: int, *, timestamp: int | None = None, interval: int = 1) -> None:
        """Mine ``count`` blocks, at most :data:`MAX_MINE_BLOCKS`, :data:`MINE_CHUNK` per hold
        of the chain lock (other clients' requests run in between)."""
        if count < 1 or count > MAX_MINE_BLOCKS:
            raise InvalidParamsError(f"block count must be between 1 and {MAX_MINE_BLOCKS}")
        first = min(count, MINE_CHUNK)
        self.chain.mine(first, timestamp=timestamp, interval=interval)
        done = first
        while done < count:
            step = min(count - done, MINE_CHUNK)
            nxt = int(self.chain.head().timestamp) + interval if interval > 1 else None
            self.chain.mine(step, timestamp=nxt, interval=interval)
            done += step

    def _automine_flag(self, params: list[Any]) -> bool:
        value = _param(params, 0)
        if not isinstance(value, bool):
            raise InvalidParamsError("expected one boolean (true: mine every transaction at once)")
        return value

    def rpc_evm_setAutomine(self, params: list[Any]) -> bool:
        self.chain.set_automine(self._automine_flag(params))
        return True

    def rpc_anvil_setAutomine(self, params: list[Any]) -> None:
        self.chain.set_automine(self._automine_flag(params))

    def rpc_anvil_getAutomine(self, params: list[Any]) -> bool:
        return self.chain.automine

    def rpc_miner_stop(self, params: list[Any]) -> None:
        self.chain.set_automine(False)

    def rpc_miner_start(self, params: list[Any]) -> None:
        self.chain.set_automine(True)

    def rpc_evm_snapshot(self, params: list[Any]) -> str:
        return _hex(self.chain.snapshot())

    def rpc_evm_revert(self, params: list[Any]) -> bool:
        return self.chain.revert(_quantity(_param(params, 0), "snapshot id"))

    # ------------------------------------------------------------------ dispatch

    def handle(self, request: Any, behind: Lag | None = None) -> dict[str, Any] | None:
        """Answer one decoded JSON-RPC request object (as a lagging replica if ``behind``)."""
        request_id = request.get("id") if isinstance(request, dict) else None
        bad_id = not (
            request_id is None
            or isinstance(request_id, str)
            or (isinstance(request_id, int) and not isinstance(request_id, bool))
            or (isinstance(request_id, float) and math.isfinite(request_id))
        )
        if bad_id:
            request_id = None
        try:
            if not isinstance(request, dict):
                raise RPCError(INVALID_REQUEST, "invalid request: expected a JSON object")
            if bad_id:
                raise RPCError(
                    INVALID_REQUEST, "invalid request: id must be a string, number or null"
                )
            method = request.get("method")
            if request.get("jsonrpc") != "2.0" or not isinstance(method, str):
                raise RPCError(INVALID_REQUEST, "invalid request: needs jsonrpc '2.0' and a method")
            params = request.get("params", [])
            if params is None:
                params = []
            if not isinstance(params, list):
                raise RPCError(INVALID_PARAMS, "invalid params: expected a positional list")
            handler = self.methods.get(method)
            if handler is None:
                raise RPCError(
                    METHOD_NOT_FOUND, f"the method {method} does not exist/is not available"
                )
            most = _MAX_PARAMS.get(getattr(handler, "__name__", "")[len("rpc_") :], 0)
            if len(params) > most:
                raise RPCError(
                    INVALID_PARAMS, f"invalid params: too many arguments, want at most {most}"
                )
            if behind is not None:
                answered, result, params = self._replica_view(method, params, behind)
                if answered:
                    return {"jsonrpc": "2.0", "id": request_id, "result": result}
            result = handler(params)
            return {"jsonrpc": "2.0", "id": request_id, "result": result}
        except RPCError as exc:
            error = exc.to_json()
        except ExecutionRevertedError as exc:
            error = RPCError(
                REVERT_ERROR, str(exc), ("0x" + exc.data.hex()) if exc.data else None
            ).to_json()
        except InvalidParamsError as exc:
            error = RPCError(INVALID_PARAMS, f"invalid params: {exc}").to_json()
        except (TransactionRejectedError, ExecutionError) as exc:
            error = RPCError(SERVER_ERROR, str(exc)).to_json()
        except DevnetError as exc:
            error = RPCError(SERVER_ERROR, str(exc)).to_json()
        except (KeyError, IndexError, TypeError, ValueError, OverflowError) as exc:
            error = RPCError(INVALID_PARAMS, f"invalid params: {type(exc).__name__}").to_json()
        except Exception as exc:  # never let one request take the server down
            logger.exception(
                "internal error in %s", getattr(request, "get", lambda _: "?")("method")
            )
            error = RPCError(INTERNAL_ERROR, f"internal error: {type(exc).__name__}").to_json()
        return {"jsonrpc": "2.0", "id": request_id, "error": error}

    def _replica_view(
        self, method: str, params: list[Any], behind: Lag
    ) -> tuple[bool, Any, list[Any]]:
        """A lagging replica's answer: (answered here, result, params to run the method with).

        The replica's head is ``behind`` blocks before ours: ``latest`` means that block, newer
        blocks are unknown ("header not found", or ``null`` for a block lookup), and so are
        transactions mined in them or still pending.
        """
        head = max(0, self.chain.block_number() - behind.blocks)
        stale = behind.stale_latest
        if method == "eth_blockNumber" and stale:
            return True, _hex(head), params
        index = _TAG_INDEX.get(method)
        if index is not None:
            tag = params[index] if len(params) > index else None
            if stale and (tag is None or tag in ("latest", "safe", "finalized")):
                params = list(params) + [None] * (index + 1 - len(params))
                params[index] = _hex(head)
            elif (
                isinstance(tag, str) and tag not in _TAGS and _quantity(tag, "block number") > head
            ):
                if method.startswith("eth_getBlock"):
                    return True, None, params
                raise RPCError(SERVER_ERROR, "header not found")
        if method in ("eth_getTransactionByHash", "eth_getTransactionReceipt"):
            found = self.methods[method](params)
            number = found.get("blockNumber") if isinstance(found, dict) else None
            if number is None or int(number, 16) > head:
                return True, None, params
            return True, found, params
        return False, None, params

    def handle_body(
        self, body: bytes, knobs: Knobs | None = None, behind: Lag | None = None
    ) -> Any:
        """Answer a raw HTTP body (single request or batch); returns the JSON value to send."""
        return self.answer(body, knobs, behind)[1]

    def answer(
        self, body: bytes, knobs: Knobs | None = None, behind: Lag | None = None
    ) -> tuple[int, Any, list[str]]:
        """(HTTP status, JSON value, methods called) for a raw HTTP body under ``knobs``."""
        if _too_deep(body):
            return (
                200,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {
                        "code": PARSE_ERROR,
                        "message": f"parse error: JSON nested deeper than {MAX_JSON_DEPTH} levels",
                    },
                },
                [],
            )
        try:
            decoded = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return (
                200,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": PARSE_ERROR, "message": "parse error: invalid JSON"},
                },
                [],
            )
        if isinstance(decoded, list):
            if not decoded:
                return (
                    200,
                    {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {
                            "code": INVALID_REQUEST,
                            "message": "invalid request: empty batch",
                        },
                    },
                    [],
                )
            if knobs is not None and knobs.no_batch:
                return (
                    400,
                    {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {
                            "code": INVALID_REQUEST,
                            "message": "batch requests are not supported",
                        },
                    },
                    [],
                )
            limit = MAX_BATCH if knobs is None else min(knobs.max_batch, MAX_BATCH)
            if len(decoded) > limit:
                return (
                    200,
                    {
                        "jsonrpc": "2.0",
                        "id": None,
                        "error": {
                            "code": INVALID_REQUEST,
                            "message": f"batch too large (max {limit})",
                        },
                    },
                    [],
                )
            methods = [str(item.get("method")) for item in decoded if isinstance(item, dict)]
            return 200, [self.handle(item, behind) for item in decoded], methods
        method = [str(decoded.get("method"))] if isinstance(decoded, dict) else []
        return 200, self.handle(decoded, behind), method


# --------------------------------------------------------------------------- HTTP


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    wbufsize = -1  # buffered: headers and body leave in one write (flushed per request)
    timeout = 300  # idle keep-alive connections do not hold a thread forever
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, payload: Any, *, allow: bool = False) -> None:
        try:
            body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        except ValueError:  # a non-finite number slipped into an answer: never send bad JSON
            body = json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": INTERNAL_ERROR, "message": "unencodable answer"},
                }
            ).encode()
        self.send_response(status)
        if allow:
            self.send_header("Allow", "POST, OPTIONS")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(body)

    def do_OPTIONS(self) -> None:
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        self._send(
            405,
            {
                "jsonrpc": "2.0",
                "id": None,
                "error": {"code": INVALID_REQUEST, "message": "use POST"},
            },
            allow=True,
        )

    do_PUT = do_DELETE = do_PATCH = do_GET

    def do_HEAD(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "POST, OPTIONS")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._send(
                411,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": INVALID_REQUEST, "message": "Content-Length required"},
                },
            )
            return
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send(
                413,
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": INVALID_REQUEST, "message": "request too large"},
                },
            )
            return
        body = self.rfile.read(length)
        knobs = self.server.knobs
        status, payload, methods = self.server.methods.answer(body, knobs, knobs._take_lag())
        knobs._count(len(methods))
        if methods and knobs._take_drop(methods):
            # Executed, but the answer is lost: hang up before writing anything.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._send(status, payload)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address: tuple[str, int], methods: RPCMethods, knobs: Knobs) -> None:
        self.methods = methods
        self.knobs = knobs
        self._connections: set[Any] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Hang up on every open (keep-alive) connection."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up mid-request are not the server's problem; keep stderr quiet.
        logger.debug("connection from %s failed", client_address, exc_info=True)


class RPCServer(ThreadedServing[_Server]):
    """The HTTP JSON-RPC server of a chain; a context manager, binds ``host:port`` (0 = free).

    :meth:`start` binds and serves in a daemon thread; :meth:`stop` stops serving, closes the
    socket and hangs up on open keep-alive connections (both idempotent).
    """

    _thread_prefix = "ogpu-devnet-rpc"

    def __init__(
        self,
        chain: DevnetChain,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        knobs: Knobs | None = None,
    ) -> None:
        """Prepare the server; :meth:`start` binds and serves. ``knobs``: fault knobs (default:
        none active; change them at any time through :attr:`knobs`)."""
        self.chain = chain
        self.host = host
        self.port = port
        self.knobs = knobs if knobs is not None else Knobs()
        self.methods = RPCMethods(chain)
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _make_server(self) -> _Server:
        return _Server((self.host, self.port), self.methods, self.knobs)

    def _after_close(self, server: _Server) -> None:
        server.close_connections()
