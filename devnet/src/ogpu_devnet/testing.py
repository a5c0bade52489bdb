"""Helpers for your own test suites against a running :class:`~ogpu_devnet.Devnet`.

- :func:`use_devnet`: point the SDK (``ChainConfig`` and ``ogpu.ipfs``) at a devnet for the
  duration of a ``with`` block, and restore everything afterwards;
- :func:`roles` / :class:`Roles`: the devnet's funded accounts under role names (client,
  provider, master, ...);
- :class:`FaultProxy`: a loopback JSON-RPC proxy that counts the requests it forwards and
  injects faults on chosen methods, with the words of the devnet's and the mock pinning
  service's fault knobs (``latency``, ``fail_next``, ``respond_next``, ``drop_after``,
  ``reset_faults``).

Example (pytest; the ``devnet`` fixtures come from the ``ogpu_devnet`` plugin)::

    from ogpu_devnet.testing import FaultProxy, use_devnet

    @pytest.fixture
    def sdk(devnet_isolated):
        with use_devnet(devnet_isolated) as accounts:
            yield accounts

    def test_publish_survives_a_lost_answer(sdk, devnet_isolated):
        with FaultProxy(devnet_isolated.rpc_url) as proxy, use_devnet(
            devnet_isolated, rpc_url=proxy.url
        ):
            proxy.drop_after("eth_sendRawTransaction")
            ...  # the SDK call under test
        assert len(proxy.forwarded_raw) == 1

The keys are the devnet's public test keys: never use them on a real network.
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ogpu_devnet.chain import DevAccount

__all__ = ["FaultProxy", "Roles", "roles", "use_devnet"]

_IPFS_ENV = ("OGPU_IPFS_PUBLISH_URL", "OGPU_IPFS_GATEWAY")
_SINGLETONS = ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT", "MANAGER")


@dataclass(frozen=True)
class Roles:
    """The devnet's funded accounts by role (each has ``address`` and ``private_key``).

    ``deployer`` deployed the contracts; ``client`` publishes sources and tasks, ``client2``
    is a second client; ``provider`` and ``provider2`` answer them; ``master`` manages
    providers; ``agent`` acts for a client or a master once they authorise it; ``other`` owns
    nothing (for "not the owner" checks). ``accounts`` lists every funded account in devnet
    order (the last one is left to the provider runtime, which funds its fresh keys from it).
    """

    deployer: DevAccount
    client: DevAccount
    provider: DevAccount
    master: DevAccount
    other: DevAccount
    provider2: DevAccount
    accounts: tuple[DevAccount, ...]
    agent: DevAccount
    client2: DevAccount


def roles(devnet: Any) -> Roles:
    """The role accounts of ``devnet``: accounts 0 to 5 in the order of :class:`Roles`, then
    ``agent`` (6) and ``client2`` (7)."""
    accounts = tuple(devnet.accounts)
    if len(accounts) < 8:
        raise ValueError(f"a devnet with at least 8 accounts is needed, got {len(accounts)}")
    deployer, client, provider, master, other, provider2, agent, client2 = accounts[:8]
    return Roles(
        deployer, client, provider, master, other, provider2, accounts, agent=agent, client2=client2
    )


@contextmanager
def use_devnet(devnet: Any, *, rpc_url: str | None = None, env: bool = True) -> Iterator[Roles]:
    """Make ``devnet`` the SDK's current chain inside the block; restore the previous chain,
    the devnet entry's RPC URL, contracts and IPFS endpoints, the ``OGPU_IPFS_*`` environment
    variables and the nonce caches afterwards (also when the block raises).

    ``rpc_url`` routes the SDK through another URL (e.g. a :class:`FaultProxy` in front of
    the devnet). ``env=False`` leaves the ``OGPU_IPFS_PUBLISH_URL`` / ``OGPU_IPFS_GATEWAY``
    environment variables alone (the devnet's chain entry still names its pinning service),
    e.g. for a session-wide use where other tests check the SDK's defaults. Yields the
    devnet's :func:`roles`.
    """
    from ogpu.chain import ChainConfig, ChainId, clear_all_nonce_caches

    dev = ChainId.OGPU_DEVNET
    previous = ChainConfig.get_current_chain()
    saved_rpc = ChainConfig.get_rpc(dev)
    saved_contracts = {name: ChainConfig.get_contract_address(name, dev) for name in _SINGLETONS}
    saved_ipfs = (ChainConfig.get_ipfs_publish_url(dev), ChainConfig.get_ipfs_gateway_url(dev))
    saved_env = {name: os.environ.get(name) for name in _IPFS_ENV}
    if env:
        os.environ["OGPU_IPFS_PUBLISH_URL"] = devnet.ipfs.publish_url
        os.environ["OGPU_IPFS_GATEWAY"] = devnet.ipfs.gateway_url
    try:
        ChainConfig.configure(
            dev,
            rpc_url=rpc_url or devnet.rpc_url,
            contracts=dict(devnet.contracts),
            ipfs_publish_url=devnet.ipfs.publish_url,
            ipfs_gateway_url=devnet.ipfs.gateway_url,
        )
        ChainConfig.set_chain(dev)
        clear_all_nonce_caches()
        yield roles(devnet)
    finally:
        clear_all_nonce_caches()
        ChainConfig.reset_rpc(dev)
        ChainConfig.configure(
            dev,
            contracts=saved_contracts,
            ipfs_publish_url=saved_ipfs[0],
            ipfs_gateway_url=saved_ipfs[1],
        )
        if saved_rpc != ChainConfig.get_rpc(dev):
            ChainConfig.configure(dev, rpc_url=saved_rpc)
        ChainConfig.set_chain(previous)
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _UpstreamStatus(Exception):
    """The node answered a non-2xx HTTP status: passed through to the caller as it is."""

    def __init__(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        super().__init__(status)
        self.status, self.headers, self.data = status, headers, data


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class FaultProxy:
    """A loopback JSON-RPC proxy in front of ``target`` that counts what it forwards and
    injects faults on chosen methods.

    Counting: ``count`` (HTTP requests received = round trips), ``rpc_calls`` (JSON-RPC calls,
    each member of a batch counted) and ``bodies`` (the raw JSON-RPC bodies); :meth:`reset`
    zeroes them. ``latency`` (seconds, the word of the pinning service's ``Faults.latency``)
    delays every request before it is forwarded: a remote node's round trip; concurrent
    requests wait concurrently. Every request goes to the node on a connection of its own;
    ``keep_alive=True`` reuses one per proxy thread (cheaper, for benchmarks), and sends a
    request again once if its kept-alive connection fails, so do not combine it with faults
    of the node that drop connections (``Devnet.drop_after``).

    Faults, consumed one per matching single (non-batch) call of ``method``:

    - :meth:`drop_after`: forward, then close without answering (the node acted, the answer
      is lost), as :meth:`ogpu_devnet.Devnet.drop_after`;
    - :meth:`fail_next`: answer a JSON-RPC error without forwarding;
    - :meth:`respond_next`: answer this result without forwarding;
    - :meth:`inject` queues raw actions: ``"drop"`` (close without forwarding),
      ``"forward_then_drop"``, ``"swallow"`` (a dummy 32-byte hash, not forwarded),
      ``("error", code, message)``, ``("forward_then_error", code, message)``,
      ``("result", value)``.

    In a batch, calls of a method with a queued ``error`` or ``result`` action are forwarded
    with the rest, and their entry in the answer is replaced (one action per matching call).
    :meth:`reset_faults` forgets queued faults. A non-2xx HTTP answer of the node (e.g. a
    refused batch) reaches the caller unchanged.

    Every ``eth_sendRawTransaction`` that reached the node is recorded in ``forwarded_raw``;
    every one the proxy saw (whatever its fate) in ``seen_raw``.

    One proxy for a whole devnet: with ``http_upstream`` (e.g. the pinning service's base URL),
    JSON-RPC is served under ``rpc_path`` only (``url`` ends with it) and every other request
    (GET or POST, any path) is relayed to ``http_upstream`` unchanged, after the same
    ``latency``, counted in ``count`` and ``relayed``. Subclasses may override
    :meth:`on_request` (see every counted request) and :meth:`control` (answer requests of
    their own, e.g. a test harness's markers, without counting or delaying them).

    Example (a remote RPC and gateway, 30 ms away)::

        with FaultProxy(net.rpc_url, rpc_path="/rpc", latency=0.03,
                        http_upstream=net.ipfs.base_url) as proxy:
            use proxy.url (JSON-RPC), proxy.base + "/file/create", proxy.base + "/ipfs"
    """

    def __init__(
        self,
        target: str,
        *,
        latency: float = 0.0,
        rpc_path: str = "/",
        http_upstream: str | None = None,
        keep_alive: bool = False,
    ) -> None:
        if not rpc_path.startswith("/"):
            raise ValueError(f"rpc_path must start with '/', got {rpc_path!r}")
        if http_upstream is not None and rpc_path == "/":
            raise ValueError("with http_upstream, JSON-RPC needs its own rpc_path (e.g. '/rpc')")
        self.target = target
        self.latency = latency
        self.rpc_path = rpc_path
        self.http_upstream = http_upstream
        self.keep_alive = keep_alive
        self._conns = threading.local()
        self.count = 0
        self.rpc_calls = 0
        self.relayed = 0
        self.bodies: list[bytes] = []
        self.faults: dict[str, list[Any]] = {}
        self.seen_raw: list[str] = []
        self.forwarded_raw: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            wbufsize = -1  # head and body leave in one write

            def do_GET(self) -> None:
                self._dispatch("GET")

            def do_POST(self) -> None:
                self._dispatch("POST")

            def _dispatch(self, verb: str) -> None:
                length = int(self.headers.get("Content-Length", "0") or 0)
                body = self.rfile.read(length) if length else b""
                own = proxy.control(verb, self.path, body)
                if own is not None:
                    self._answer_bytes(own)
                    return
                if proxy._is_rpc(self.path) and verb == "POST":
                    self._rpc(body)
                elif proxy.http_upstream is not None:
                    proxy._count("http", body)
                    if proxy.latency:
                        time.sleep(proxy.latency)
                    self._relay(verb, body)
                else:
                    self.send_error(404)

            def _relay(self, verb: str, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                status, out, data = proxy._request(
                    str(proxy.http_upstream), verb, self.path, body, headers
                )
                self.send_response(status)
                for key, value in out:
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _rpc(self, body: bytes) -> None:
                proxy._count("rpc", body)
                if proxy.latency:
                    time.sleep(proxy.latency)
                try:
                    self._rpc_answer(body)
                except _UpstreamStatus as answer:
                    self.send_response(answer.status)
                    for key, value in answer.headers:
                        if key.lower() not in _HOP_BY_HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer.data)))
                    self.end_headers()
                    self.wfile.write(answer.data)

            def _rpc_answer(self, body: bytes) -> None:
                payload = json.loads(body)
                action: Any = None
                if isinstance(payload, list):
                    self._answer_bytes(proxy._batch(body, payload))
                    return
                method = payload.get("method") if isinstance(payload, dict) else None
                with proxy._lock:
                    if method == "eth_sendRawTransaction":
                        proxy.seen_raw.append(payload["params"][0])
                    queue = proxy.faults.get(str(method))
                    if queue:
                        action = queue.pop(0)
                if action == "drop":
                    self.close_connection = True
                    return
                if action == "swallow":
                    self._reply(payload, "result", "0x" + "00" * 32)
                    return
                if isinstance(action, tuple) and action[0] == "forward_then_error":
                    proxy._forward(body, method, payload)
                    self._reply(payload, "error", {"code": action[1], "message": action[2]})
                    return
                if isinstance(action, tuple) and action[0] == "error":
                    self._reply(payload, "error", {"code": action[1], "message": action[2]})
                    return
                if isinstance(action, tuple) and action[0] == "result":
                    self._reply(payload, "result", action[1])
                    return
                answer = proxy._forward(body, method, payload)
                if action == "forward_then_drop":
                    self.close_connection = True
                    return
                self._answer_bytes(answer)

            def _reply(self, payload: dict[str, Any], member: str, value: Any) -> None:
                if "id" not in payload:  # a notification: answered with nothing, as by the node
                    self._answer_bytes(b"")
                    return
                self._answer({"jsonrpc": "2.0", "id": payload["id"], member: value})

            def _answer(self, obj: Any) -> None:
                self._answer_bytes(json.dumps(obj).encode())

            def _answer_bytes(self, answer: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.base if rpc_path == "/" else self.base + rpc_path
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _is_rpc(self, path: str) -> bool:
        if self.http_upstream is None:
            return True  # every path is the node's
        bare = path.split("?", 1)[0]
        return bare == self.rpc_path or bare.startswith(self.rpc_path.rstrip("/") + "/")

    def _count(self, kind: str, body: bytes) -> None:
        calls = 0
        if kind == "rpc":
            try:
                decoded = json.loads(body)
                calls = len(decoded) if isinstance(decoded, list) else 1
            except ValueError:
                calls = 1
        with self._lock:
            self.count += 1
            if kind == "rpc":
                self.rpc_calls += calls
                self.bodies.append(body)
            else:
                self.relayed += 1
        self.on_request(kind, calls)

    def on_request(self, kind: str, calls: int) -> None:
        """Called for every counted request, before its ``latency``: ``kind`` is ``"rpc"``
        (``calls`` JSON-RPC calls in it) or ``"http"`` (relayed, ``calls`` 0). Does nothing;
        override to count your own way."""

    def control(self, verb: str, path: str, body: bytes) -> bytes | None:
        """Answer a request of the proxy's own (200 with these bytes; not counted, not
        delayed, not forwarded), or ``None`` to proxy it. Override it; by default ``None``."""
        return None

    def _request(
        self, base: str, verb: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One HTTP exchange with an upstream: on a fresh connection, never retried (a
        request the node may have acted on is not sent twice); with ``keep_alive``, on this
        thread's kept-alive connection, sent again once on a fresh one if that fails."""
        parts = urllib.parse.urlsplit(base)
        where = (parts.hostname or "127.0.0.1", parts.port or 80)
        if not self.keep_alive:
            conn = http.client.HTTPConnection(*where, timeout=120)
            try:
                conn.request(verb, path, body=body or None, headers=headers)
                answer = conn.getresponse()
                return answer.status, answer.getheaders(), answer.read()
            finally:
                conn.close()
        conns: dict[tuple[str, int], http.client.HTTPConnection] | None
        conns = getattr(self._conns, "by_upstream", None)
        if conns is None:
            conns = self._conns.by_upstream = {}
        for attempt in (1, 2):  # a kept-alive connection the upstream has closed meanwhile
            conn = conns.get(where) or http.client.HTTPConnection(*where, timeout=120)
            conns[where] = conn
            try:
                conn.request(verb, path, body=body or None, headers=headers)
                answer = conn.getresponse()
                return answer.status, answer.getheaders(), answer.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conns.pop(where, None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _forward(self, body: bytes, method: Any, payload: Any) -> bytes:
        parts = urllib.parse.urlsplit(self.target)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        status, headers, answer = self._request(
            self.target, "POST", path, body, {"Content-Type": "application/json"}
        )
        if not 200 <= status < 300:
            raise _UpstreamStatus(status, headers, answer)
        if method == "eth_sendRawTransaction":
            with self._lock:
                self.forwarded_raw.append(payload["params"][0])
        return answer

    def _batch(self, body: bytes, payload: list[Any]) -> bytes:
        """Forward a batch, then apply queued ``error``/``result`` actions to its entries
        (without any queued fault, the node's bytes are answered as they are)."""
        raw = self._forward(body, None, payload)
        with self._lock:
            if not any(self.faults.values()):
                return raw
        answer = json.loads(raw) if raw else []  # empty: the batch held notifications only
        if not isinstance(answer, list):
            return raw
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        with self._lock:
            for call in payload:
                if not isinstance(call, dict) or "id" not in call:
                    continue  # no entry in the answer to replace
                queue = self.faults.get(str(call.get("method")))
                if not queue or not isinstance(queue[0], tuple):
                    continue
                if queue[0][0] not in ("error", "result"):
                    continue
                action = queue.pop(0)
                item = by_id.get(call.get("id"))
                if item is None:
                    continue
                item.pop("result", None)
                item.pop("error", None)
                if action[0] == "error":
                    item["error"] = {"code": action[1], "message": action[2]}
                else:
                    item["result"] = action[1]
        return json.dumps(answer).encode() if raw else raw

    def inject(self, method: str, *actions: Any) -> None:
        """Queue ``actions`` for the next calls of ``method``."""
        with self._lock:
            self.faults.setdefault(method, []).extend(actions)

    def drop_after(self, method: str, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` reach the node, then the connection closes
        before the answer (the caller cannot know the outcome)."""
        self.inject(method, *["forward_then_drop"] * times)

    def fail_next(
        self, method: str, n: int = 1, code: int = -32000, message: str = "injected error"
    ) -> None:
        """Answer the next ``n`` calls of ``method`` with this JSON-RPC error (not forwarded)."""
        self.inject(method, *[("error", code, message)] * n)

    def respond_next(self, method: str, n: int = 1, result: Any = None) -> None:
        """Answer the next ``n`` calls of ``method`` with ``result`` (not forwarded)."""
        self.inject(method, *[("result", result)] * n)

    def reset_faults(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self.faults.clear()

    def reset(self) -> None:
        """Zero the request counts and forget the recorded bodies."""
        with self._lock:
            self.count = self.rpc_calls = self.relayed = 0
            self.bodies.clear()

    def close(self) -> None:
        """Stop the proxy and free its port."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
