"""The one seam between ``ogpu.ipfs`` and ``requests``.

Every HTTP call goes through :func:`send`, which owns the pooled session, retries, the
overall deadline, redirect policy and the streaming size cap, and maps every ``requests``
exception to a typed :mod:`ogpu.ipfs` error (``raise mapped from exc``).

The deadline is a wall-clock bound on the whole call. Socket timeouts alone cannot keep it:
a server dripping one byte every 100 ms never lets a read time out. So the connections a
call uses are registered (by the session's connection class) with one watchdog thread,
which shuts their sockets down when the call's deadline passes; the blocked read or write
then fails at once and the call raises :class:`IPFSTimeoutError`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ogpu.ipfs._errors import (
    IPFSError,
    IPFSFetchError,
    IPFSGatewayError,
    IPFSTimeoutError,
    IPFSTooLargeError,
)
from ogpu.ipfs._version import __version__

if TYPE_CHECKING:
    import socket

    import requests

logger = logging.getLogger("ogpu.ipfs")

_MAX_REDIRECTS = 5
_READ_CHUNK = 64 * 1024
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_DOUBLINGS = 32  # backoff * 2**n stops growing here (no float overflow on huge retries)
USER_AGENT = f"ogpu-ipfs/{__version__}"

_session_lock = threading.Lock()
_session: requests.Session | None = None
_session_pid = 0


class _Call:
    """The sockets one :func:`send` call uses; shut down if its deadline passes first."""

    __slots__ = ("at", "done", "fired", "lock", "socks")

    def __init__(self, at: float) -> None:
        self.at = at
        self.socks: list[socket.socket] = []
        self.done = False
        self.fired = False
        self.lock = threading.Lock()

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self.lock:
            fired = self.fired
            if not fired and all(sock is not known for known in self.socks):
                self.socks.append(sock)
        if fired:
            _shutdown(sock)

    def finish(self) -> None:
        with self.lock:
            self.done = True
            self.socks.clear()

    def fire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.fired = True
            socks, self.socks = self.socks, []
        for sock in socks:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    import socket  # here, not at import: `import ogpu.ipfs` stays cheap

    # The plain socket's shutdown (also for TLS sockets, whose own shutdown() would drop
    # the SSL object under a reader in another thread): blocked recv/send return at once.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """One daemon thread firing :class:`_Call` deadlines in time order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Call]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, call: _Call) -> None:
        with self._cond:
            if len(self._heap) > 1024:  # finished calls wait for their deadline: drop them
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            heapq.heappush(self._heap, (call.at, next(self._seq), call))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="ogpu-ipfs-deadlines", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is call:
                # Wake the thread only when this deadline comes first: waking it on every
                # call would cost a thread switch per request.
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].done:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    delay = self._heap[0][0] - time.monotonic()
                    if delay <= 0:
                        call = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(delay)
            call.fire()


_watchdog = _Watchdog()
_current = threading.local()


def _attach_current(conn: Any) -> None:
    # The socket, not the connection: http.client drops conn.sock once a "Connection: close"
    # answer's head is read, while its body is still read from that socket.
    call: _Call | None = getattr(_current, "call", None)
    if call is not None:
        call.attach(getattr(conn, "sock", None))


def _connection_classes() -> tuple[type[Any], type[Any]]:
    """urllib3 pool classes whose connections join the current call's watchdog."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    # A pooled connection is attached when a request starts; a new one once connected
    # (before sending: an upload to a server that does not read is cut too).
    class WatchedHTTPConnection(HTTPConnection):
        def connect(self) -> None:
            super().connect()
            _attach_current(self)

        def request(self, *args: Any, **kwargs: Any) -> None:
            _attach_current(self)
            super().request(*args, **kwargs)

    class WatchedHTTPSConnection(HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            _attach_current(self)

        def request(self, *args: Any, **kwargs: Any) -> None:
            _attach_current(self)
            super().request(*args, **kwargs)

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    return WatchedHTTPPool, WatchedHTTPSPool


def _reset_after_fork() -> None:
    # The parent's lock may be held by another thread at fork time, and its pooled sockets
    # must not be shared: the child starts with a fresh lock and no session (and its own
    # watchdog: threads do not survive a fork).
    global _session_lock, _session, _session_pid, _watchdog
    _session_lock = threading.Lock()
    _session, _session_pid = None, 0
    _watchdog = _Watchdog()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def session() -> requests.Session:
    """Return the process-wide pooled session (recreated after ``fork``).

    Cookies are refused so that the shared session carries no state between calls, which
    keeps it safe to use from many threads (urllib3's pool is thread-safe).
    """
    global _session, _session_pid
    pid = os.getpid()
    current = _session
    if current is not None and _session_pid == pid:
        return current
    with _session_lock:
        if _session is None or _session_pid != pid:
            import http.cookiejar

            import requests
            from requests.adapters import HTTPAdapter

            http_pool, https_pool = _connection_classes()

            class WatchedAdapter(HTTPAdapter):
                def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                    super().init_poolmanager(*args, **kwargs)
                    self.poolmanager.pool_classes_by_scheme = {
                        "http": http_pool,
                        "https": https_pool,
                    }

                def proxy_manager_for(self, *args: Any, **kwargs: Any) -> Any:
                    manager = super().proxy_manager_for(*args, **kwargs)
                    manager.pool_classes_by_scheme = {"http": http_pool, "https": https_pool}
                    return manager

            new = requests.Session()
            new.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
            new.trust_env = True
            adapter = WatchedAdapter(pool_connections=16, pool_maxsize=32, max_retries=0)
            new.mount("http://", adapter)
            new.mount("https://", adapter)
            new.headers["User-Agent"] = USER_AGENT
            _session, _session_pid = new, pid
        return _session


class BodySink(Protocol):
    """Where :func:`send` puts a 2xx body instead of memory (e.g. a temporary file).

    ``reset()`` is called before every body read starts: an attempt that broke mid-body is
    discarded before the retry writes the body again from its first byte.
    """

    def reset(self) -> None:
        """Forget everything written so far."""

    def write(self, chunk: bytes) -> None:
        """Take the next chunk of the body."""


class Response(NamedTuple):
    """A completed HTTP exchange whose body was read within the size cap."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes


def check_http_url(url: str) -> None:
    """Refuse anything but an absolute http(s) URL (before any request is made)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        _ = parts.port  # validates the port (ValueError when out of range)
    except ValueError as exc:
        raise IPFSFetchError(url, f"malformed URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc or not parts.hostname:
        raise IPFSFetchError(url, f"refusing to fetch a non-http(s) URL (scheme {parts.scheme!r})")


def _ascii_int(value: str | None) -> int | None:
    """``int(value)`` for a plain ASCII digit string, else ``None`` (``"²".isdigit()`` holds)."""
    if value is None:
        return None
    value = value.strip()
    if not value or not value.isascii() or not value.isdigit():
        return None
    return int(value)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP-date.

    HTTP-dates are always GMT (RFC 9110), including the obsolete asctime form that carries
    no zone; a date in the past means "now" (0). Anything unparsable gives ``None``.

    Example::

        >>> retry_after_seconds("120")
        120.0
        >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT")
        0.0
    """
    if value is None:
        return None
    seconds = _ascii_int(value)
    if seconds is not None:
        return float(seconds)
    import email.utils
    from datetime import timezone

    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" or asctime: GMT, not local time
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def derived_deadline(timeout: float, retries: int, backoff: float) -> float:
    """The overall deadline used when none is given: room for every attempt to time out and
    every backoff wait to run to its longest, plus a second."""
    return timeout * (retries + 1) + backoff * 2.0 ** min(retries + 1, _MAX_DOUBLINGS) + 1.0


def _read_capped(
    resp: requests.Response,
    url: str,
    max_bytes: int,
    deadline_at: float,
    sink: BodySink | None = None,
) -> bytes:
    declared = _ascii_int(resp.headers.get("Content-Length"))
    if declared is not None and declared > max_bytes:
        raise IPFSTooLargeError(
            url,
            f"body of {declared} bytes exceeds the {max_bytes}-byte cap",
            limit=max_bytes,
        )
    chunks: list[bytes] = []
    total = 0
    if sink is not None:
        sink.reset()
    for chunk in resp.iter_content(_READ_CHUNK):
        total += len(chunk)
        if total > max_bytes:
            raise IPFSTooLargeError(
                url, f"body exceeds the {max_bytes}-byte cap (stopped reading)", limit=max_bytes
            )
        if time.monotonic() > deadline_at:
            raise IPFSTimeoutError(url, "overall deadline exceeded while reading the body")
        if sink is not None:
            sink.write(chunk)
        else:
            chunks.append(chunk)
    return b"".join(chunks)


def _reason_from(resp: requests.Response) -> str:
    # A short excerpt of an error body, for the message; never the whole (possibly huge) body.
    try:
        raw = resp.raw.read(200, decode_content=True) or b""
    except Exception:  # the excerpt is best effort; the status code is the error
        return ""
    text = raw.decode("utf-8", "replace").strip().replace("\n", " ")
    return text[:200]


def send(
    method: str,
    url: str,
    *,
    timeout: float,
    retries: int,
    backoff: float,
    deadline: float | None,
    max_bytes: int,
    params: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    files: Any = None,
    check_redirect: Callable[[str], None] | None = None,
    deadline_at: float | None = None,
    sink: BodySink | None = None,
) -> Response:
    """Send one HTTP request with retries; return the 2xx response with its body read.

    Retries (``retries`` times after the first attempt) on connection errors, timeouts,
    5xx and 429, waiting ``backoff * 2**n`` seconds with +-50% jitter, or the server's
    ``Retry-After`` when longer; never on other 4xx. ``deadline`` bounds the whole call,
    retries and waits included (``None``: derived from timeout, retries and backoff);
    ``deadline_at`` (a ``time.monotonic()`` instant) instead shares one deadline between the
    several requests of one call (e.g. a fetch and its block-by-block verification).
    Redirects are followed by hand, only to http(s) URLs that ``check_redirect`` accepts.
    With a ``sink`` the 2xx body goes there, chunk by chunk (the returned body is empty);
    the sink is reset before each attempt's body.

    Raises:
        IPFSGatewayError: final error status (or any 4xx other than 429, at once).
        IPFSTimeoutError: a timeout on the last attempt, or the deadline ran out.
        IPFSTooLargeError: the body exceeded ``max_bytes`` (not retried).
        IPFSFetchError: connection failure, refused redirect, or an unusable URL.
    """
    check_http_url(url)
    if deadline_at is None:
        deadline = derived_deadline(timeout, retries, backoff) if deadline is None else deadline
        deadline_at = time.monotonic() + deadline
    else:
        deadline = max(0.0, deadline_at - time.monotonic())
    call = _Call(deadline_at)
    _watchdog.watch(call)
    outer = getattr(_current, "call", None)
    _current.call = call
    try:
        return _send(
            call, method, url, timeout, retries, backoff, deadline, deadline_at,
            max_bytes, params, headers, files, check_redirect, sink,
        )  # fmt: skip
    except IPFSError as exc:
        if call.fired and not isinstance(exc, IPFSTimeoutError):
            raise IPFSTimeoutError(url, f"overall deadline of {deadline:.3g}s exceeded") from exc
        raise
    except Exception as exc:  # anything the transport raised once its socket was shut down
        if call.fired:
            raise IPFSTimeoutError(url, f"overall deadline of {deadline:.3g}s exceeded") from exc
        raise
    finally:
        _current.call = outer
        call.finish()


def _send(
    call: _Call,
    method: str,
    url: str,
    timeout: float,
    retries: int,
    backoff: float,
    deadline: float,
    deadline_at: float,
    max_bytes: int,
    params: Mapping[str, str] | None,
    headers: Mapping[str, str] | None,
    files: Any,
    check_redirect: Callable[[str], None] | None,
    sink: BodySink | None = None,
) -> Response:
    import random

    import requests
    from urllib3.exceptions import ReadTimeoutError

    sess = session()
    attempt = 0
    hops = 0
    current = url
    while True:
        remaining = deadline_at - time.monotonic()
        if remaining <= 0:
            raise IPFSTimeoutError(current, f"overall deadline of {deadline:.3g}s exceeded")
        per_try = min(timeout, remaining)
        last: IPFSError
        retry_after: float | None = None
        try:
            resp = sess.request(
                method,
                current,
                params=params,
                headers=headers,
                files=files,
                timeout=(per_try, per_try),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            last = IPFSTimeoutError(current, f"timed out after {per_try:g}s ({exc})")
            last.__cause__ = exc
        except requests.ConnectionError as exc:
            last = IPFSFetchError(current, f"connection failed: {exc}")
            last.__cause__ = exc
        except requests.RequestException as exc:
            raise IPFSFetchError(current, f"invalid request: {exc}") from exc
        else:
            with resp:
                status = resp.status_code
                if status in _REDIRECTS and "Location" in resp.headers:
                    from urllib.parse import urljoin

                    try:
                        target = urljoin(current, resp.headers["Location"])
                    except ValueError:
                        target = resp.headers["Location"]  # refused just below
                    hops += 1
                    if hops > _MAX_REDIRECTS:
                        raise IPFSFetchError(url, f"more than {_MAX_REDIRECTS} redirects")
                    try:
                        check_http_url(target)
                    except IPFSFetchError:
                        raise IPFSFetchError(
                            current, f"refusing redirect to non-http(s) URL {target!r}"
                        ) from None
                    if check_redirect is not None:
                        check_redirect(target)
                    logger.debug("redirect %s -> %s", current, target)
                    current = target
                    if status == 303:
                        method, files = "GET", None
                    continue
                if 200 <= status < 300:
                    try:
                        body = _read_capped(resp, current, max_bytes, deadline_at, sink)
                    except requests.Timeout as exc:
                        last = IPFSTimeoutError(current, f"timed out reading the body ({exc})")
                        last.__cause__ = exc
                    except requests.RequestException as exc:
                        # requests reports a read timeout mid-body as a ConnectionError.
                        if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                            last = IPFSTimeoutError(current, f"timed out reading the body ({exc})")
                        else:
                            last = IPFSFetchError(
                                current, f"connection broke reading the body: {exc}"
                            )
                        last.__cause__ = exc
                    else:
                        return Response(current, status, dict(resp.headers), body)
                else:
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                    error = IPFSGatewayError(
                        current, status, reason=_reason_from(resp), retry_after=retry_after
                    )
                    if status != 429 and status < 500:
                        raise error
                    last = error
        if call.fired:
            raise IPFSTimeoutError(
                current, f"overall deadline of {deadline:.3g}s exceeded"
            ) from last
        if attempt >= retries:
            raise last
        delay = backoff * 2.0 ** min(attempt, _MAX_DOUBLINGS) * random.uniform(0.5, 1.5)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if time.monotonic() + delay >= deadline_at:
            logger.debug("not retrying %s: the deadline would pass during the wait", current)
            raise last
        attempt += 1
        logger.debug(
            "retry %d/%d for %s in %.2fs after: %s", attempt, retries, current, delay, last
        )
        time.sleep(delay)
