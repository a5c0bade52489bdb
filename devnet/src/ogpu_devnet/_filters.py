"""Polled filters (``eth_newFilter``, ``eth_newBlockFilter``, ``eth_newPendingTransactionFilter``,
``eth_getFilterChanges``/``eth_getFilterLogs``, ``eth_uninstallFilter``) and ``eth_getLogs``.

A filter remembers the next block it scans (moved back when ``evm_revert`` shortens the chain)
and is dropped after :data:`FILTER_TIMEOUT` idle seconds, as geth drops it; log queries span at
most :data:`MAX_LOG_RANGE` blocks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ogpu_devnet._format import format_log
from ogpu_devnet._jsonrpc import method
from ogpu_devnet._params import (
    MethodsBase,
    _address,
    _hash32,
    _hex,
    _hexdata,
    _param,
    _quantity,
)
from ogpu_devnet.chain import DevnetChain, LogFilter
from ogpu_devnet.errors import SERVER_ERROR, InvalidParamsError, RPCError

#: Most blocks one ``eth_getLogs`` may span (above: -32602).
MAX_LOG_RANGE = 100_000
#: Seconds a polled filter lives without being polled (geth: 5 minutes).
FILTER_TIMEOUT = 300.0


@dataclass
class _Filter:
    kind: str  # "logs" | "blocks" | "pending"
    cursor: int  # next block number to scan
    spec: dict[str, Any] | None = None
    last_used: float = field(default_factory=time.monotonic)


class FilterMethods(MethodsBase):
    """``eth_getLogs`` and the polled filters of one server."""

    def __init__(self, chain: DevnetChain) -> None:
        """Serve ``chain`` with no filter installed."""
        super().__init__(chain)
        #: Idle seconds after which a polled filter is dropped (geth: 5 minutes).
        self.filter_timeout = FILTER_TIMEOUT
        self._filters: dict[int, _Filter] = {}
        self._filter_counter = 0
        chain.add_revert_listener(self._on_revert)

    def _on_revert(self, head: int) -> None:
        # Blocks after the new head are gone; filters resume right after it.
        for flt in self._filters.values():
            flt.cursor = min(flt.cursor, head + 1)

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

    @method("eth_getLogs", max_params=1)
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

    @method("eth_newFilter", max_params=1)
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

    @method("eth_newBlockFilter")
    def rpc_eth_newBlockFilter(self, params: list[Any]) -> str:
        with self.chain.lock:
            return self._new_filter_id(_Filter("blocks", self.chain.block_number() + 1))

    @method("eth_newPendingTransactionFilter", max_params=1)
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

    @method("eth_getFilterChanges", max_params=1)
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

    @method("eth_getFilterLogs", max_params=1)
    def rpc_eth_getFilterLogs(self, params: list[Any]) -> list[dict[str, Any]]:
        with self.chain.lock:
            _, flt = self._get_filter(params)
            if flt.kind != "logs" or flt.spec is None:
                raise RPCError(SERVER_ERROR, "filter is not a log filter")
            return [format_log(e) for e in self.chain.get_logs(self._filter_for(flt.spec))]

    @method("eth_uninstallFilter", max_params=1)
    def rpc_eth_uninstallFilter(self, params: list[Any]) -> bool:
        fid = _quantity(_param(params, 0), "filter id")
        with self.chain.lock:
            return self._filters.pop(fid, None) is not None
