"""A small JSON-RPC 2.0 client over one pooled ``requests.Session`` (single calls and batches).

Every HTTP POST is one round trip; :meth:`RpcClient.batch` sends many calls in one POST.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import requests
from ogpu.types.errors import RpcNodeError, RpcTransportError, TxRpcError
from requests.adapters import HTTPAdapter

__all__ = ["RpcClient", "RpcErrorObject", "RpcTransportError", "hex_int"]

log = logging.getLogger("ogpu.chain.rpc")

#: Upper bound of calls per batch POST (geth's default batch limit is 1000).
MAX_BATCH = 500


@dataclass(frozen=True)
class RpcErrorObject:
    """A JSON-RPC error object returned for one call."""

    code: int | None
    message: str
    data: Any = None

    def to_exception(self) -> TxRpcError:
        """The :class:`~ogpu.types.RpcNodeError` (a :class:`TxRpcError`) for this error object."""
        return RpcNodeError(self.message, self.code, self.data)


class RpcClient:
    """JSON-RPC over HTTP with a pooled session; thread-safe."""

    def __init__(self, url: str, *, timeout: float = 30.0, pool_size: int = 32) -> None:
        self.url = url
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Content-Type": "application/json"})
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    def _post(self, payload: Any, timeout: float | None) -> Any:
        try:
            resp = self.session.post(
                self.url, data=json.dumps(payload), timeout=timeout or self.timeout
            )
        except requests.RequestException as exc:
            raise RpcTransportError(f"{type(exc).__name__}: {exc}") from None
        if resp.status_code >= 400 and not resp.content.startswith((b"{", b"[")):
            raise RpcTransportError(f"HTTP {resp.status_code} from {self.url}")
        # A node is untrusted input too: ogpu-ipfs's depth-checked decoder (public API)
        # keeps absurdly nested JSON from crashing the process.
        from ogpu.ipfs.safe_json import loads

        try:
            return loads(resp.content)
        except ValueError:
            raise RpcTransportError(f"unparsable JSON-RPC answer from {self.url}") from None

    def request(self, method: str, params: Sequence[Any], *, timeout: float | None = None) -> Any:
        """One call; returns ``result`` or raises :class:`TxRpcError` (code/data filled)."""
        payload = {
            "jsonrpc": "2.0",
            "id": self._next_id(),
            "method": method,
            "params": list(params),
        }
        log.debug("rpc %s", method)
        answer = self._post(payload, timeout)
        if not isinstance(answer, dict):
            raise RpcTransportError(f"malformed JSON-RPC answer to {method}")
        return _unwrap(answer, method)

    def batch(
        self, calls: Sequence[tuple[str, Sequence[Any]]], *, timeout: float | None = None
    ) -> list[Any]:
        """Many calls, one POST per :data:`MAX_BATCH` calls.

        Returns, per call in order, its ``result`` or an :class:`RpcErrorObject`.
        """
        results: list[Any] = []
        for start in range(0, len(calls), MAX_BATCH):
            results.extend(self._batch_once(calls[start : start + MAX_BATCH], timeout))
        return results

    def _batch_once(
        self, calls: Sequence[tuple[str, Sequence[Any]]], timeout: float | None
    ) -> list[Any]:
        if not calls:
            return []
        ids = [self._next_id() for _ in calls]
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": m, "params": list(p)}
            for i, (m, p) in zip(ids, calls, strict=False)
        ]
        log.debug("rpc batch of %d calls", len(calls))
        answer = self._post(payload, timeout)
        if isinstance(answer, dict):
            # Some nodes answer a whole rejected batch with one error object.
            err = answer.get("error")
            if isinstance(err, dict):
                raise RpcNodeError(str(err.get("message", "batch rejected")), err.get("code"))
            raise RpcTransportError("malformed JSON-RPC batch answer")
        if not isinstance(answer, list):
            raise RpcTransportError("malformed JSON-RPC batch answer")
        by_id: dict[Any, Any] = {}
        for item in answer:
            # an id we never sent (or an unhashable one from a hostile node) matches nothing
            if (
                isinstance(item, dict)
                and isinstance(item.get("id"), int)
                and by_id.setdefault(item["id"], item) != item
            ):  # two different answers under one id: neither can be trusted
                raise RpcTransportError("conflicting answers for one id in a JSON-RPC batch")
        out: list[Any] = []
        for i in ids:
            item = by_id.get(i)
            if item is None:
                out.append(RpcErrorObject(None, "missing answer in batch"))
            elif "error" in item and item["error"] is not None:
                err = item["error"]
                out.append(
                    RpcErrorObject(err.get("code"), str(err.get("message", "")), err.get("data"))
                )
            else:
                out.append(item.get("result"))
        return out


def hex_int(value: Any) -> int:
    """A JSON-RPC quantity (``"0x1f"``, or an int) as an int; a batch item that is an error
    raises its typed error."""
    if isinstance(value, RpcErrorObject):
        raise value.to_exception()
    return int(value, 16) if isinstance(value, str) else int(value)


def _unwrap(answer: dict[str, Any], method: str) -> Any:
    err = answer.get("error")
    if err is not None:
        if isinstance(err, dict):
            raise RpcNodeError(str(err.get("message", "")), err.get("code"), err.get("data"))
        raise RpcNodeError(str(err))
    if "result" not in answer:
        raise RpcTransportError(f"JSON-RPC answer to {method} has no result")
    return answer["result"]
