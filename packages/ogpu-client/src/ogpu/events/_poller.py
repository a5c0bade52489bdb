"""Exactly-once, in-order log streaming over HTTP JSON-RPC log filters.

The stream installs a log filter (``eth_newFilter``), fills the gap between its
starting block and the filter's installation with ``eth_getLogs``, then polls
``eth_getFilterChanges``. Logs are yielded in ``(block_number, log_index)``
order and a log at or before the last one yielded is dropped, so overlapping
ranges never produce duplicates. When the node forgets the filter (restarts,
expiry of idle filters, or an ``eth_uninstallFilter`` from someone else) the
stream re-creates it and resumes from the block of the last log it yielded.

A node's answer is untrusted input: a log that is not an object, or lacks a valid
``blockNumber``/``logIndex``, ends the stream with :class:`~ogpu.types.TxRpcError` (typed,
naming the method) rather than being skipped: a skipped log would be an event lost without
a trace, and its position is what exactly-once delivery rests on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any, cast

from ogpu.chain import ChainConfig
from ogpu.chain.node_errors import NodeErrorKind, classify
from ogpu.types import TxRpcError

logger = logging.getLogger("ogpu.events")

LogKey = tuple[int, int]

# Consecutive transport failures tolerated before the stream gives up.
_MAX_TRANSPORT_FAILURES = 5


class _FilterGone(Exception):
    """The node no longer knows our filter id (internal signal, never escapes)."""


class JsonRpc:
    """Async facade over the chain's pooled JSON-RPC client (each call runs in a worker thread).

    Reusing :meth:`ogpu.chain.ChainConfig.rpc_client` keeps one HTTP connection pool and one
    error mapping for the whole SDK; polling every ``poll_interval`` seconds does not need
    more than a thread per call.
    """

    def __init__(self, chain: Any = None) -> None:
        self._client = ChainConfig.rpc_client(chain)

    async def call(self, method: str, params: Sequence[Any]) -> Any:
        """Call ``method``; returns ``result`` or raises TxRpcError (or _FilterGone)."""
        failures = 0
        while True:
            try:
                return await asyncio.to_thread(self._client.request, method, list(params))
            except TxRpcError as exc:
                if exc.code is not None:  # the node answered with an error object
                    gone = classify(exc.code, exc.reason) is NodeErrorKind.FILTER_NOT_FOUND
                    if method == "eth_getFilterChanges" and gone:
                        raise _FilterGone(exc.reason) from None
                    raise
                failures += 1  # transport: connection refused, reset, timeout
                if failures >= _MAX_TRANSPORT_FAILURES:
                    raise
                delay = 0.2 * 2 ** (failures - 1)
                logger.warning("%s failed (%s); retrying in %.1fs", method, exc, delay)
                await asyncio.sleep(delay)

    async def block_number(self) -> int:
        """The node's latest block number."""
        answer = await self.call("eth_blockNumber", [])
        try:
            return _to_int(answer)
        except (TypeError, ValueError):
            raise TxRpcError(f"malformed eth_blockNumber answer: {str(answer)[:120]!r}") from None


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(value, 16)  # TypeError for anything but a str (callers map it)


def log_key(log: Any) -> LogKey:
    """The position that orders logs on a chain: ``(blockNumber, logIndex)``.

    Raises :class:`~ogpu.types.TxRpcError` for a malformed log (not an object, a position
    missing, null or not a number).
    """
    if not isinstance(log, dict):
        raise TxRpcError(f"malformed log from the node (not an object): {str(log)[:120]!r}")
    try:
        return _to_int(log["blockNumber"]), _to_int(log["logIndex"])
    except (KeyError, TypeError, ValueError):
        raise TxRpcError(
            f"malformed log from the node (no valid blockNumber/logIndex): {str(log)[:200]!r}"
        ) from None


def _logs(answer: Any, method: str) -> list[Any]:
    """The list of logs of an eth_getLogs/eth_getFilterChanges answer (null: none)."""
    if answer is None:
        return []
    if not isinstance(answer, list):
        raise TxRpcError(f"malformed {method} answer (not a list): {str(answer)[:120]!r}")
    return answer


async def stream_logs(
    rpc: JsonRpc,
    *,
    address: str,
    topics: Sequence[str],
    from_block: int | None,
    poll_interval: float,
) -> AsyncGenerator[dict[str, Any], None]:
    """Yield every log of ``address`` whose first topic is one of ``topics``, once, in order.

    ``from_block=None`` starts after the current head (only new logs); an int
    replays from that block first.
    """
    criteria: dict[str, Any] = {"address": address, "topics": [list(topics)]}
    cursor = await rpc.block_number() + 1 if from_block is None else from_block
    last: LogKey | None = None
    filter_id: str | None = None
    try:
        while True:
            batch: list[dict[str, Any]]
            if filter_id is None:
                filter_id = cast(str, await rpc.call("eth_newFilter", [criteria]))
                head = await rpc.block_number()
                batch = []
                if head >= cursor:
                    batch = _logs(
                        await rpc.call(
                            "eth_getLogs",
                            [{**criteria, "fromBlock": hex(cursor), "toBlock": hex(head)}],
                        ),
                        "eth_getLogs",
                    )
                logger.debug("log filter %s installed (replaying %d..%d)", filter_id, cursor, head)
            else:
                try:
                    batch = _logs(
                        await rpc.call("eth_getFilterChanges", [filter_id]),
                        "eth_getFilterChanges",
                    )
                except _FilterGone:
                    # Resume at the block of the last log yielded; the key check drops repeats.
                    if last is not None:
                        cursor = last[0]
                    logger.info(
                        "log filter %s was forgotten by the node; resuming at block %d",
                        filter_id,
                        cursor,
                    )
                    filter_id = None
                    continue
            for log in sorted(batch, key=log_key):
                if log.get("removed"):
                    continue
                key = log_key(log)
                if last is not None and key <= last:
                    continue
                last = key
                yield log
            await asyncio.sleep(poll_interval)
    finally:
        if filter_id is not None:
            try:
                await rpc.call("eth_uninstallFilter", [filter_id])
            except Exception:  # the node may have forgotten it already
                logger.debug("eth_uninstallFilter failed", exc_info=True)
