"""A wall-clock bound on an HTTP call: a watchdog thread hangs up a connection at its deadline.

A server dripping its answer a byte at a time cannot stretch a call past its deadline: the
call's :class:`Watch` records the connection urllib3 opens for it (through the pools of
:class:`DeadlineAdapter`), and one daemon thread shuts that socket down when the deadline
passes, unless the answer was in first.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["DeadlineAdapter", "Watch", "arm_watch", "disarm_watch"]


class Watch:
    """The connection one call uses, so a watchdog can hang up on it at the deadline."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.fired = False
        self._done = False
        self._lock = threading.Lock()

    def done(self) -> None:
        """The answer is in: never touch the connection (it goes back to the pool)."""
        with self._lock:
            self._done = True

    def fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sock = getattr(self.conn, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


class _Watchdog:
    """One daemon thread firing :class:`Watch` es at their deadlines."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._cancelled: set[int] = set()
        self._cond = threading.Condition()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float, watch: Watch) -> int:
        with self._cond:
            token = next(self._ids)
            heapq.heappush(self._heap, (deadline, token, watch))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ogpu-rpc-watchdog")
                self._thread.daemon = True
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._cancelled.add(token)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, token, watch = self._heap[0]
                now = time.monotonic()
                if token in self._cancelled:
                    heapq.heappop(self._heap)
                    self._cancelled.discard(token)
                    continue
                if deadline > now:
                    self._cond.wait(deadline - now)
                    continue
                heapq.heappop(self._heap)
            watch.fire()


_watchdog = _Watchdog()


class _WatchedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.conn = self
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.conn = self
        super().request(*args, **kwargs)


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """A requests adapter whose connections a :class:`Watch` can hang up."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedPool,
            "https": _WatchedHTTPSPool,
        }


def arm_watch(deadline: float) -> tuple[Watch, int]:
    """Watch the connection this thread's next request opens; hang it up at ``deadline``
    (``time.monotonic()`` seconds) unless :meth:`Watch.done` was called first."""
    watch = Watch()
    token = _watchdog.arm(deadline, watch)
    _current.watch = watch
    return watch, token


def disarm_watch(watch: Watch, token: int) -> None:
    """The call is over: the watch never fires and this thread's next request is unwatched."""
    watch.done()
    _current.watch = None
    _watchdog.disarm(token)
