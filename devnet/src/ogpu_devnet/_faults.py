"""The server's fault knobs (:class:`Knobs`): batch refusals, a lagging replica, dropped answers.

They make one devnet server behave like the live network's load-balanced replicas; see
:mod:`ogpu_devnet.rpc` for what each knob does to the answers.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

#: Most calls one batch may hold (geth's default ``BatchRequestLimit``); ``max_batch`` lowers it.
MAX_BATCH = 1000


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
