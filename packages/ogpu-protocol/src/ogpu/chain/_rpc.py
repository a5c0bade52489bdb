"""A small JSON-RPC 2.0 client over one pooled ``requests.Session`` (single calls and batches).

Every HTTP POST is one round trip; :meth:`RpcClient.batch` sends many calls in one POST.

What a node (or the network in front of it) may do, and what the client does about it:

- **Deadline.** ``timeout`` is a wall-clock bound on the whole call (connect, headers, body,
  retries): a watchdog shuts the socket down when it passes, so a server dripping its answer
  a byte at a time cannot stretch it. The answer is read as a stream.
- **Size.** An answer larger than ``max_response_bytes`` once decoded (gzip/deflate are
  decompressed incrementally with a bound, so a compression bomb costs no memory) raises
  :class:`~ogpu.types.errors.RpcResponseTooLargeError`. Default :data:`MAX_RESPONSE_BYTES`.
- **Batch size.** At most ``max_batch`` calls per POST (default :data:`MAX_BATCH`, below
  geth's limit of 1000). A node that refuses a batch (HTTP 4xx such as 413, a single error
  object instead of a list, answers with missing ids) gets the calls again in smaller batches
  (a limit named in its message is used as is) or as single requests, sent concurrently
  (``fallback_workers``; 1 = sequentially). The limit learnt is remembered per endpoint URL
  for the life of the process (:func:`forget_batch_limits` drops it).
- **Lagging replicas and dropped connections.** Idempotent reads (:data:`IDEMPOTENT`) are
  retried ``read_retries`` times with a short backoff (within the deadline) when the
  connection drops ("connection aborted", "remote end closed connection", "connection
  reset", "read timed out") or the node answers "header not found" / "block ... not found"
  (a load-balanced replica behind the others). Anything else (``eth_sendRawTransaction``
  first of all) is never retried here: the executor decides.
- **Credentials.** A URL's userinfo, query values and key-like path segments are redacted
  (:func:`redact_url`) in every message and repr.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import os
import re
import threading
import time
import weakref
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
import urllib3.exceptions
from ogpu.chain._deadline import DeadlineAdapter, arm_watch, disarm_watch
from ogpu.chain._redact import hide_url_in_logs, redact_url, scrub_url_secrets
from ogpu.types.errors import (
    RpcNodeError,
    RpcResponseTooLargeError,
    RpcTransportError,
    TxRpcError,
)

__all__ = [
    "IDEMPOTENT",
    "MAX_BATCH",
    "MAX_RESPONSE_BYTES",
    "RpcBlockUnavailableError",
    "RpcClient",
    "RpcErrorObject",
    "RpcTransportError",
    "forget_batch_limits",
    "forget_written_blocks",
    "hex_int",
    "hide_url_in_logs",
    "is_unknown_block",
    "redact_url",
    "scrub_url_secrets",
]

log = logging.getLogger("ogpu.chain.rpc")

#: Default upper bound of calls per batch POST (geth's default limit is 1000; environment
#: variable ``OGPU_RPC_MAX_BATCH`` or ``RpcClient(max_batch=...)`` change it).
MAX_BATCH = 500
#: Default bound of one decoded answer, in bytes (``OGPU_RPC_MAX_RESPONSE_BYTES``; geth caps
#: a batch answer at 25 MB by default).
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
#: Default retries of an idempotent read on a dropped connection or an unknown block.
READ_RETRIES = 3
#: Default number of single requests in flight when a node refuses batches.
FALLBACK_WORKERS = 8

#: Methods that change nothing on the node: safe to send again when the answer was lost.
IDEMPOTENT = frozenset(
    {
        "eth_blockNumber",
        "eth_call",
        "eth_chainId",
        "eth_estimateGas",
        "eth_feeHistory",
        "eth_gasPrice",
        "eth_getBalance",
        "eth_getBlockByHash",
        "eth_getBlockByNumber",
        "eth_getBlockReceipts",
        "eth_getCode",
        "eth_getFilterLogs",
        "eth_getLogs",
        "eth_getStorageAt",
        "eth_getTransactionByHash",
        "eth_getTransactionCount",
        "eth_getTransactionReceipt",
        "eth_maxPriorityFeePerGas",
        "eth_syncing",
        "net_version",
        "web3_clientVersion",
    }
)

_UNKNOWN_BLOCK = re.compile(r"header not found|unknown block|block [^ ]{0,80} ?not found", re.I)
_DROPPED = (
    "connection aborted",
    "remote end closed connection",
    "remotedisconnected",
    "connection reset",
    "connectionreset",
    "read timed out",
    "connection broken",
    "incompleteread",
    "bad status line",
    "connection refused",
    "max retries exceeded",
    "broken pipe",
)
_RATE_LIMITED = re.compile(r"rate.?limit|too many requests|try again|busy|capacity", re.I)
_BATCH_LIMIT = re.compile(r"(?:max(?:imum)?|limit|at most|up to)\D{0,24}(\d{1,6})", re.I)


class RpcBlockUnavailableError(RpcNodeError):
    """The node does not know the block a read was pinned to (a lagging replica), still after
    the retries: a multi-batch read starts again pinned to a block the node has."""


def is_unknown_block(message: str) -> bool:
    """Whether a node's error message says it does not know the requested block yet."""
    return bool(_UNKNOWN_BLOCK.search(message))


@dataclass(frozen=True)
class RpcErrorObject:
    """A JSON-RPC error object returned for one call."""

    code: int | None
    message: str
    data: Any = None

    def to_exception(self) -> TxRpcError:
        """The :class:`~ogpu.types.RpcNodeError` (a :class:`TxRpcError`) for this error object;
        :class:`RpcBlockUnavailableError` when the node does not know the block (a lagging
        replica)."""
        if is_unknown_block(self.message):
            return RpcBlockUnavailableError(self.message, self.code, self.data)
        return RpcNodeError(self.message, self.code, self.data)


def _error_object(err: Any) -> RpcErrorObject:
    """An error member of any shape (object, string, number) as an :class:`RpcErrorObject`."""
    if isinstance(err, dict):
        code = err.get("code")
        return RpcErrorObject(
            code if isinstance(code, int) and not isinstance(code, bool) else None,
            str(err.get("message", "")),
            err.get("data"),
        )
    return RpcErrorObject(None, str(err)[:500])


# --------------------------------------------------------------------------- batch limits

_limits: dict[str, int] = {}
_limits_lock = threading.Lock()


#: Every live client, for :func:`forget_written_blocks`.
_live_clients: weakref.WeakSet[RpcClient] = weakref.WeakSet()


def forget_written_blocks() -> None:
    """Forget the block of the last write of every client (:attr:`RpcClient.written_block`).

    For a chain rewound below it (a devnet's ``evm_revert``): reads would otherwise treat
    the node as a replica lagging behind that block and wait for it. The devnet's pytest
    fixtures call it after reverting; ``ChainConfig.configure(rpc_url=...)`` (a new client)
    starts afresh too.
    """
    for client in list(_live_clients):
        client.forget_written_block()


def forget_batch_limits(url: str | None = None) -> None:
    """Forget the batch limit learnt for ``url`` (default: for every endpoint)."""
    with _limits_lock:
        if url is None:
            _limits.clear()
        else:
            _limits.pop(url, None)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return max(1, int(raw))
    except ValueError:
        return default


class _Refused(Exception):
    """A node refused a batch; ``limit`` is what it said it accepts (None: unknown)."""

    def __init__(self, reason: str, limit: int | None) -> None:
        super().__init__(reason)
        self.limit = limit


class RpcClient:
    """JSON-RPC over HTTP with a pooled session; thread-safe.

    ``timeout`` bounds each call on the wall clock; ``max_batch`` caps calls per POST;
    ``max_response_bytes`` caps a decoded answer; ``read_retries`` bounds the retries of an
    idempotent read; ``fallback_workers`` is the concurrency of single requests sent to a
    node that refuses batches. See the module docstring.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30.0,
        pool_size: int = 32,
        max_batch: int | None = None,
        max_response_bytes: int | None = None,
        read_retries: int = READ_RETRIES,
        fallback_workers: int = FALLBACK_WORKERS,
    ) -> None:
        self.url = url
        hide_url_in_logs(url)
        self.timeout = timeout
        self.max_batch = max(1, max_batch or _env_int("OGPU_RPC_MAX_BATCH", MAX_BATCH))
        self.max_response_bytes = max_response_bytes or _env_int(
            "OGPU_RPC_MAX_RESPONSE_BYTES", MAX_RESPONSE_BYTES
        )
        self.read_retries = max(0, read_retries)
        self.fallback_workers = max(1, fallback_workers)
        self.session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {"Content-Type": "application/json", "Accept-Encoding": "gzip, deflate"}
        )
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._written: int | None = None
        self._written_lock = threading.Lock()
        _live_clients.add(self)

    def __repr__(self) -> str:
        return f"RpcClient({redact_url(self.url)!r}, timeout={self.timeout})"

    @property
    def safe_url(self) -> str:
        """The endpoint URL with credentials redacted (for messages and logs)."""
        return redact_url(self.url)

    @property
    def written_block(self) -> int | None:
        """The highest block in which a transaction sent through this client was seen mined
        (None: none yet). Reads of ``latest`` through this client never return older state
        (read-your-writes, see :func:`ogpu.protocol._reads.read_many`)."""
        with self._written_lock:
            return self._written

    def note_written_block(self, number: int) -> None:
        """Record that a transaction sent through this client was mined in block ``number``."""
        with self._written_lock:
            if self._written is None or number > self._written:
                self._written = number

    def forget_written_block(self) -> None:
        """Forget :attr:`written_block` (the chain was rewound below it)."""
        with self._written_lock:
            self._written = None

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    @property
    def batch_limit(self) -> int:
        """Calls per POST now: ``max_batch``, or less if the node refused larger batches
        (1: the node takes single requests only)."""
        with _limits_lock:
            learnt = _limits.get(self.url)
        return self.max_batch if learnt is None else max(1, min(self.max_batch, learnt))

    def _learn_limit(self, limit: int) -> None:
        with _limits_lock:
            previous = _limits.get(self.url)
            _limits[self.url] = limit if previous is None else min(previous, limit)
        log.warning(
            "%s refuses batches larger than %d; %s from now on",
            self.safe_url,
            limit,
            "single requests" if limit <= 1 else f"batches of {limit}",
        )

    # ------------------------------------------------------------------ transport

    def _scrub(self, text: str) -> str:
        """``text`` without the URL's secrets (a requests message may quote the URL)."""
        return scrub_url_secrets(text, self.url)

    def _post(self, payload: Any, deadline: float) -> tuple[int, Any]:
        """One POST, read as a stream within ``deadline``; returns (HTTP status, JSON)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        watch, token = arm_watch(deadline)
        try:
            try:
                resp = self.session.post(
                    self.url, data=json.dumps(payload), timeout=remaining, stream=True
                )
                try:
                    status = resp.status_code
                    content = self._read_body(resp, deadline)
                    watch.done()
                finally:
                    resp.close()
            except (
                requests.RequestException,
                urllib3.exceptions.HTTPError,
                http.client.HTTPException,
                OSError,
                ValueError,
            ) as exc:
                if watch.fired or time.monotonic() >= deadline:
                    raise self._timed_out() from None
                error = RpcTransportError(self._scrub(f"{type(exc).__name__}: {exc}"))
                error.retryable = True
                raise error from None
        finally:
            disarm_watch(watch, token)
        if status >= 400 and not content.lstrip().startswith((b"{", b"[")):
            error = RpcTransportError(f"HTTP {status} from {self.safe_url}")
            error.status = status
            error.retryable = status in (408, 429, 502, 503, 504)
            raise error
        # A node is untrusted input too: ogpu-ipfs's depth-checked decoder (public API)
        # keeps absurdly nested JSON from crashing the process.
        from ogpu.ipfs.safe_json import loads

        try:
            return status, loads(content)
        except (ValueError, RecursionError):
            raise RpcTransportError(f"unparsable JSON-RPC answer from {self.safe_url}") from None

    def _timed_out(self) -> RpcTransportError:
        error = RpcTransportError(
            f"no complete answer from {self.safe_url} within {self.timeout} s (timed out)"
        )
        return error

    def _read_body(self, resp: requests.Response, deadline: float) -> bytes:
        limit = self.max_response_bytes
        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise RpcResponseTooLargeError(limit, self.safe_url)
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        decoder: Any = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib header
        elif encoding not in ("", "identity"):
            raise RpcTransportError(f"unsupported Content-Encoding {encoding!r} from node")
        raw = resp.raw
        out = bytearray()
        while True:
            if time.monotonic() >= deadline:
                raise self._timed_out()
            chunk = raw.read1(65536, decode_content=False)
            if not chunk:
                break
            if decoder is None:
                out += chunk
            else:
                try:
                    out += decoder.decompress(chunk, limit - len(out) + 1)
                    while decoder.unconsumed_tail and len(out) <= limit:
                        out += decoder.decompress(decoder.unconsumed_tail, limit - len(out) + 1)
                except zlib.error:
                    raise RpcTransportError("corrupt compressed JSON-RPC answer") from None
            if len(out) > limit:
                raise RpcResponseTooLargeError(limit, self.safe_url)
        return bytes(out)

    # ------------------------------------------------------------------ single calls

    def request(self, method: str, params: Sequence[Any], *, timeout: float | None = None) -> Any:
        """One call; returns ``result`` or raises :class:`TxRpcError` (code/data filled).

        Idempotent methods are retried on dropped connections and unknown blocks.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        answer = self._single(method, params, deadline)
        if isinstance(answer, RpcErrorObject):
            raise answer.to_exception()
        return answer

    def _single(
        self,
        method: str,
        params: Sequence[Any],
        deadline: float,
        *,
        transport_retries: bool = True,
        block_retries: bool = True,
    ) -> Any:
        """``result``, or an :class:`RpcErrorObject`; transport failures raise.

        Inside a batch the caller retries unknown blocks (``block_retries=False``) and, for a
        batch of one, transport failures too (``transport_retries=False``).
        """
        retries = self.read_retries if method in IDEMPOTENT else 0
        attempt = 0
        while True:
            payload = {
                "jsonrpc": "2.0",
                "id": self._next_id(),
                "method": method,
                "params": list(params),
            }
            log.debug("rpc %s", method)
            try:
                _, answer = self._post(payload, deadline)
            except RpcTransportError as exc:
                if (
                    transport_retries
                    and exc.retryable
                    and self._backoff(attempt, retries, deadline, method, exc)
                ):
                    attempt += 1
                    continue
                raise
            if not isinstance(answer, dict):
                raise RpcTransportError(f"malformed JSON-RPC answer to {method}")
            err = answer.get("error")
            if err is not None:
                obj = _error_object(err)
                if (
                    block_retries
                    and is_unknown_block(obj.message)
                    and self._backoff(attempt, retries, deadline, method, obj.message)
                ):
                    attempt += 1
                    continue
                return obj
            if "result" not in answer:
                raise RpcTransportError(f"JSON-RPC answer to {method} has no result")
            return answer["result"]

    def _backoff(self, attempt: int, retries: int, deadline: float, what: str, why: Any) -> bool:
        """Sleep before retry ``attempt + 1`` if allowed and time remains; False: give up."""
        if attempt >= retries:
            return False
        pause = min(0.05 * 2**attempt, 0.5)
        if time.monotonic() + pause >= deadline:
            return False
        log.info("rpc %s failed (%s); retry %d of %d", what, why, attempt + 1, retries)
        time.sleep(pause)
        return True

    # ------------------------------------------------------------------ batches

    def batch(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, timeout: float | None = None
    ) -> list[Any]:
        """Many calls, one POST per :attr:`batch_limit` calls.

        Returns, per call in order, its ``result`` or an :class:`RpcErrorObject`. Idempotent
        calls are retried on dropped connections and unknown blocks (only the calls that
        need it); a node that refuses batches gets the calls in smaller batches or one by one.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        results: list[Any] = [None] * len(calls)
        todo = list(range(len(calls)))
        attempt = 0
        while todo:
            sub = [calls[i] for i in todo]
            answers = self._batch_all(sub, deadline, attempt)
            again: list[int] = []
            for index, answer in zip(todo, answers, strict=True):
                results[index] = answer
                if (
                    isinstance(answer, RpcErrorObject)
                    and calls[index][0] in IDEMPOTENT
                    and is_unknown_block(answer.message)
                ):
                    again.append(index)
            if not again or not self._backoff(
                attempt, self.read_retries, deadline, f"batch ({len(again)} calls)", "unknown block"
            ):
                break
            todo = again
            attempt += 1
        return results

    def _batch_all(
        self, calls: Sequence[tuple[str, Sequence[Any]]], deadline: float, attempt: int
    ) -> list[Any]:
        results: list[Any] = []
        start = 0
        while start < len(calls):
            limit = self.batch_limit
            if limit <= 1:
                results.extend(self._singles(calls[start:], deadline))
                break
            chunk = calls[start : start + limit]
            try:
                results.extend(self._batch_retrying(chunk, deadline))
            except _Refused as refused:
                learnt = refused.limit
                if learnt is None or learnt >= len(chunk):
                    unsupported = "support" in str(refused).lower()
                    learnt = 1 if unsupported or len(chunk) <= 2 else len(chunk) // 2
                self._learn_limit(learnt)
                continue  # the same chunk again, under the new limit
            start += len(chunk)
        return results

    def _batch_retrying(
        self, calls: Sequence[tuple[str, Sequence[Any]]], deadline: float
    ) -> list[Any]:
        retries = self.read_retries if all(m in IDEMPOTENT for m, _ in calls) else 0
        attempt = 0
        while True:
            try:
                return self._batch_once(calls, deadline)
            except RpcTransportError as exc:
                if exc.retryable and self._backoff(attempt, retries, deadline, "batch", exc):
                    attempt += 1
                    continue
                raise

    def _batch_once(self, calls: Sequence[tuple[str, Sequence[Any]]], deadline: float) -> list[Any]:
        if not calls:
            return []
        if len(calls) == 1:
            method, params = calls[0]
            return [
                self._single(method, params, deadline, transport_retries=False, block_retries=False)
            ]
        ids = [self._next_id() for _ in calls]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
            for i, (m, p) in zip(ids, calls, strict=False)
        ]
        log.debug("rpc batch of %d calls", len(calls))
        try:
            status, answer = self._post(payload, deadline)
        except RpcTransportError as exc:
            if exc.status in (400, 405, 413, 414, 415, 422):
                raise _Refused(exc.reason, None) from None
            raise
        if status == 429 or status >= 500:
            # Rate limited or a failing upstream: the batch was not refused for its shape.
            error = RpcTransportError(f"HTTP {status} from {self.safe_url}")
            error.status = status
            error.retryable = True
            raise error
        if isinstance(answer, dict):
            # Some nodes answer a whole refused batch with one error object.
            err = answer.get("error")
            obj = _error_object(err) if err is not None else RpcErrorObject(None, "not a list")
            if _RATE_LIMITED.search(obj.message):
                error = RpcTransportError(f"batch rate limited: {obj.message}")
                error.retryable = True
                raise error
            raise _Refused(obj.message, _limit_in(obj.message))
        if not isinstance(answer, list):
            raise RpcTransportError("malformed JSON-RPC batch answer")
        if status >= 400:
            raise _Refused(f"HTTP {status}", None)
        by_id: dict[Any, Any] = {}
        for item in answer:
            # an id we never sent (or an unhashable one from a hostile node) matches nothing
            if isinstance(item, dict):
                key = item.get("id")
                if (
                    isinstance(key, (int, str))
                    and not isinstance(key, bool)
                    and by_id.setdefault(key, item) != item
                ):  # two different answers under one id: neither can be trusted
                    raise RpcTransportError("conflicting answers for one id in a JSON-RPC batch")
        out: list[Any] = []
        missing: list[int] = []
        for pos, i in enumerate(ids):
            item = by_id.get(i)
            if item is None:
                out.append(RpcErrorObject(None, "missing answer in batch"))
                missing.append(pos)
            elif item.get("error") is not None:
                out.append(_error_object(item["error"]))
            elif "result" not in item:
                out.append(RpcErrorObject(None, "batch answer without a result"))
            else:
                out.append(item["result"])
        if missing:
            if len(missing) == len(ids):
                # Nothing matched: this node does not answer batches properly.
                raise _Refused("no answer in the batch carries a request id", 1)
            log.warning(
                "%s left %d of %d batch calls unanswered", self.safe_url, len(missing), len(ids)
            )
            redo = [pos for pos in missing if calls[pos][0] in IDEMPOTENT]
            for pos, value in zip(
                redo, self._singles([calls[p] for p in redo], deadline), strict=True
            ):
                out[pos] = value
        return out

    def _singles(self, calls: Sequence[tuple[str, Sequence[Any]]], deadline: float) -> list[Any]:
        """One request per call (concurrently up to ``fallback_workers``), in order."""
        if len(calls) <= 1 or self.fallback_workers <= 1:
            return [self._single(m, p, deadline, block_retries=False) for m, p in calls]
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.fallback_workers, thread_name_prefix="ogpu-rpc"
                )
            pool = self._pool
        futures = [pool.submit(self._single, m, p, deadline, block_retries=False) for m, p in calls]
        return [f.result() for f in futures]


def _limit_in(message: str) -> int | None:
    match = _BATCH_LIMIT.search(message)
    return int(match.group(1)) if match else None


def hex_int(value: Any) -> int:
    """A JSON-RPC quantity (``"0x1f"``, or an int) as an int; a batch item that is an error
    raises its typed error."""
    if isinstance(value, RpcErrorObject):
        raise value.to_exception()
    return int(value, 16) if isinstance(value, str) else int(value)
