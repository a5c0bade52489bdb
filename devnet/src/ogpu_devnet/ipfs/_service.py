"""MockPinningService: a loopback HTTP server speaking OGPU's pinning and gateway contract.

Endpoints:

- ``POST /file/create`` (OGPU): multipart field ``file`` -> 200 ``{"link": "<gateway>/<cid>"}``
- ``POST /api/v0/add`` (Kubo RPC): multipart file -> 200 ``{"Name", "Hash", "Size"}``
- ``GET /ipfs/<cid>``: the content, with the content type it was uploaded with;
  ``?format=raw`` or ``Accept: application/vnd.ipld.raw``: the raw dag-pb block of any
  block CID of a stored DAG (root, intermediate or leaf). A CIDv1 (dag-pb, sha2-256)
  names the same content as its CIDv0 spelling.

Errors: 404 unknown CID or path, 400 malformed request or CID, 411 no Content-Length,
413 upload over ``max_upload``. CIDs are the ones ``ipfs add`` gives (built by
``ogpu.ipfs``'s DAG builder, whose blocks are kept for ``?format=raw``).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ogpu.ipfs import IPFSAddressError
from ogpu.ipfs.cid import CHUNK_SIZE, DAG_PB, build_dag, cid_v0, cid_v1, decode_cid

from ogpu_devnet._serving import ThreadedServing

DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024
_RAW = "application/vnd.ipld.raw"
_DRAIN_LIMIT = 64 * 1024 * 1024


@dataclass
class _Canned:
    status: int
    body: bytes
    content_type: str
    retry_after: str | None
    path_prefix: str
    headers: dict[str, str] | None = None


class Faults:
    """Thread-safe fault knobs for tests (all off by default).

    Attributes:
        latency: seconds to sleep before answering each request.
        corrupt: serve content (not raw blocks) with one byte flipped.
        corrupt_blocks: serve raw blocks with one byte flipped.
        wrong_link: answer publishes with the CID of other bytes.
        omit_content_length: send content without Content-Length (read-until-close).
        drip: seconds between the bytes of every answer (0: off), a slow-drip server whose
            reads never time out; ``drip_headers=False`` sends the head at once and drips
            only the body.
        chunk_size, raw_leaves, cid_version: the DAG layout of uploads over HTTP (default:
            ``ipfs add``'s, i.e. what ``compute_cid`` gives). Set them with
            :meth:`other_chunking` to answer links whose CID the SDK does not compute, as a
            pinning service chunking otherwise would; the content itself is unchanged.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Canned] = []
        self.latency = 0.0
        self.corrupt = False
        self.corrupt_blocks = False
        self.wrong_link = False
        self.omit_content_length = False
        self.drip = 0.0
        self.drip_headers = True
        self.chunk_size = CHUNK_SIZE
        self.raw_leaves = False
        self.cid_version = 0

    def other_chunking(
        self, chunk_size: int = 1024 * 1024, *, raw_leaves: bool = False, cid_version: int = 0
    ) -> None:
        """Pin uploads with another DAG layout: ``chunk_size``-byte chunks (``ipfs add
        --chunker=size-N``), raw leaves (``--raw-leaves``), links spelled as CIDv0 or CIDv1.

        Example (what a service using ``ipfs add --cid-version=1`` answers)::

            svc.faults.other_chunking(1024 * 1024, raw_leaves=True, cid_version=1)
        """
        if chunk_size < 1 or cid_version not in (0, 1):
            raise ValueError("chunk_size must be >= 1 and cid_version 0 or 1")
        self.chunk_size, self.raw_leaves, self.cid_version = chunk_size, raw_leaves, cid_version

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        *,
        retry_after: float | str | None = None,
        path_prefix: str = "/",
    ) -> None:
        """Answer the next ``n`` requests under ``path_prefix`` with ``status``."""
        body = json.dumps({"error": f"injected {status}"}).encode()
        ra = None if retry_after is None else str(retry_after)
        self._push(n, _Canned(status, body, "application/json", ra, path_prefix))

    def respond_next(
        self,
        n: int = 1,
        status: int = 200,
        body: bytes | str = b"",
        *,
        content_type: str = "application/json",
        path_prefix: str = "/",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``n`` requests under ``path_prefix`` with this canned response.

        Example (a redirect)::

            svc.faults.respond_next(1, 302, headers={"Location": "file:///etc/passwd"})
        """
        raw = body.encode() if isinstance(body, str) else body
        self._push(n, _Canned(status, raw, content_type, None, path_prefix, headers))

    def _push(self, n: int, canned: _Canned) -> None:
        with self._lock:
            self._queue.extend([canned] * n)

    def take(self, path: str) -> _Canned | None:
        """Pop the first queued response that applies to ``path`` (server side)."""
        with self._lock:
            for i, canned in enumerate(self._queue):
                if path.startswith(canned.path_prefix):
                    return self._queue.pop(i)
        return None

    def reset(self) -> None:
        """Turn every fault off and drop queued responses."""
        with self._lock:
            self._queue.clear()
            self.latency = 0.0
            self.corrupt = self.corrupt_blocks = self.wrong_link = False
            self.omit_content_length = False
            self.chunk_size, self.raw_leaves, self.cid_version = CHUNK_SIZE, False, 0
            self.drip, self.drip_headers = 0.0, True


@dataclass(frozen=True)
class _Entry:
    data: bytes
    content_type: str
    filename: str


class _Store:
    """Pinned files by root CID, and every block of their DAGs by block CID."""

    def __init__(self, state_dir: Path | None) -> None:
        self._lock = threading.Lock()
        self.files: dict[str, _Entry] = {}
        self.blocks: dict[str, bytes] = {}
        self.sizes: dict[str, int] = {}
        self.state_dir = state_dir
        if state_dir is not None:
            state_dir.mkdir(parents=True, exist_ok=True)
            for meta_file in sorted(state_dir.glob("*.json")):
                cid = meta_file.stem
                try:
                    meta = json.loads(meta_file.read_text())
                    data = (state_dir / f"{cid}.bin").read_bytes()
                except (OSError, ValueError):
                    continue  # a half-written entry from a crash: skip it
                self.add(
                    data,
                    meta["content_type"],
                    meta["filename"],
                    persist=False,
                    chunk_size=int(meta.get("chunk_size", CHUNK_SIZE)),
                    raw_leaves=bool(meta.get("raw_leaves", False)),
                )

    def add(
        self,
        data: bytes,
        content_type: str,
        filename: str,
        *,
        persist: bool = True,
        chunk_size: int = CHUNK_SIZE,
        raw_leaves: bool = False,
    ) -> str:
        blocks: dict[str, bytes] = {}
        emitted = [0]  # every block as linked (repeats included): Kubo's cumulative Size

        def keep(block_cid: str, block: bytes) -> None:
            blocks[block_cid] = block
            emitted[0] += len(block)

        cid = build_dag(data, chunk_size=chunk_size, on_block=keep, raw_leaves=raw_leaves)
        with self._lock:
            self.blocks.update(blocks)
            self.files[cid] = _Entry(data, content_type, filename)
            self.sizes[cid] = emitted[0]
        if persist and self.state_dir is not None:
            self._write(f"{cid}.bin", data)
            meta = {
                "content_type": content_type,
                "filename": filename,
                "size": len(data),
                "chunk_size": chunk_size,
                "raw_leaves": raw_leaves,
            }
            self._write(f"{cid}.json", json.dumps(meta).encode())
        return cid

    def _write(self, name: str, data: bytes) -> None:
        assert self.state_dir is not None
        tmp = self.state_dir / f".{name}.{threading.get_ident()}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.state_dir / name)

    def dag_size(self, cid: str) -> int:
        """Total bytes of the blocks of ``cid``'s DAG (what Kubo reports as ``Size``)."""
        return self.sizes.get(cid, 0)


def _content_length(value: str | None) -> int | None:
    """The Content-Length as an int, or ``None`` unless it is plain ASCII digits."""
    if value is None or not value.isascii() or not value.strip().isdigit():
        return None
    return int(value)


def _lookup_key(cid: str) -> str:
    """Content is stored under CIDv0; a CIDv1 dag-pb sha2-256 spelling finds the same DAG."""
    decoded = decode_cid(cid)
    if decoded.version == 1 and decoded.codec == DAG_PB and decoded.is_sha256:
        return cid_v0(decoded.multihash)
    return cid


_DISPOSITION_PARAM = re.compile(r';\s*([A-Za-z*]+)="?([^";]*)"?')


def _parse_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/form-data body into (headers incl. name/filename, content) parts."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not content_type.lower().startswith("multipart/form-data") or not match:
        raise ValueError("expected multipart/form-data with a boundary")
    delim = b"--" + match.group(1).encode("latin-1")
    if not body.startswith(delim):
        raise ValueError("body does not start with the boundary")
    parts: list[tuple[dict[str, str], bytes]] = []
    segments = (b"\r\n" + body).split(b"\r\n" + delim)
    for seg in segments[1:]:
        if seg.startswith(b"--"):
            return parts
        if not seg.startswith(b"\r\n"):
            raise ValueError("malformed boundary line")
        head, sep, content = seg[2:].partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("part without a header block")
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise ValueError("malformed part header")
            headers[name.strip().lower()] = value.strip()
        for key, value in _DISPOSITION_PARAM.findall(headers.get("content-disposition", "")):
            headers[f"disposition-{key.lower()}"] = value
        parts.append((headers, content))
    raise ValueError("missing closing boundary")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    service: MockPinningService

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the client went away (e.g. timed out): nothing to report
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients would
    # wait for a delayed ACK (~40 ms) on every response.
    disable_nagle_algorithm = True
    server: _Server
    server_version = "ogpu-devnet-ipfs"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests count requests through the service instead

    # -- helpers ---------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json",
        extra: dict[str, str] | None = None,
        close: bool = False,
    ) -> None:
        svc = self.server.service
        if svc.faults.drip > 0 and self.command != "HEAD":
            self._send_dripping(status, body, content_type, extra or {})
            return
        no_length = svc.faults.omit_content_length and status == 200 and self.command == "GET"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if no_length or close:
            self.send_header("Connection", "close")
            self.close_connection = True
        if not no_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_dripping(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str]
    ) -> None:
        """Write the answer one byte per ``faults.drip`` seconds (the head too, by default)."""
        faults = self.server.service.faults
        reason = self.responses.get(status, ("",))[0]
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Type: {content_type}"]
        lines += [f"{k}: {v}" for k, v in extra.items()]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        head = "\r\n".join(lines).encode("latin-1")
        self.close_connection = True
        if not faults.drip_headers:
            self.wfile.write(head)
            self.wfile.flush()
            head = b""
        data = head + body
        for i in range(len(data)):
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()
            time.sleep(faults.drip)

    def _error(self, status: int, message: str, close: bool = False) -> None:
        self._send(status, json.dumps({"error": message}).encode(), close=close)

    def _begin(self) -> tuple[str, dict[str, list[str]]] | None:
        svc = self.server.service
        parts = urlsplit(self.path)
        svc._count(self.command, parts.path)
        latency = svc.faults.latency
        if latency:
            time.sleep(latency)
        canned = svc.faults.take(parts.path)
        if canned is not None:
            self._drain()
            extra = dict(canned.headers or {})
            if canned.retry_after:
                extra["Retry-After"] = canned.retry_after
            self._send(canned.status, canned.body, canned.content_type, extra)
            return None
        return parts.path, parse_qs(parts.query)

    def _drain(self) -> None:
        length = _content_length(self.headers.get("Content-Length"))
        if length is not None and length <= _DRAIN_LIMIT:
            self.rfile.read(length)

    def setup(self) -> None:
        super().setup()
        self.server.service._count_connection()

    # -- methods ---------------------------------------------------------------------------

    def do_GET(self) -> None:
        begun = self._begin()
        if begun is None:
            return
        path, query = begun
        svc = self.server.service
        if path in ("/", "/health"):
            self._send(200, json.dumps({"service": "ogpu-devnet-ipfs", "ok": True}).encode())
            return
        if not path.startswith("/ipfs/"):
            self._error(404, f"no route {path}")
            return
        cid, _, subpath = path[len("/ipfs/") :].partition("/")
        try:
            key = _lookup_key(cid)
        except IPFSAddressError:
            self._error(400, f"invalid CID {cid!r}")
            return
        raw = query.get("format") == ["raw"] or _RAW in self.headers.get("Accept", "")
        if raw:
            block = svc._store.blocks.get(key)
            if block is None:
                self._error(404, f"no block {cid}")
                return
            if svc.faults.corrupt_blocks:
                block = _flip(block)
            self._send(200, block, _RAW)
            return
        entry = svc._store.files.get(key)
        if entry is None or subpath.strip("/"):
            self._error(404, f"not found: {path}")
            return
        data = _flip(entry.data) if svc.faults.corrupt else entry.data
        self._send(200, data, entry.content_type, {"X-Ipfs-Path": f"/ipfs/{cid}"})

    def do_POST(self) -> None:
        begun = self._begin()
        if begun is None:
            return
        path, _query = begun
        svc = self.server.service
        if path not in ("/file/create", "/api/v0/add"):
            self._drain()
            self._error(404, f"no route {path}")
            return
        length = _content_length(self.headers.get("Content-Length"))
        if length is None:
            self._error(411, "Content-Length required", close=True)
            return
        if length > svc.max_upload:
            # Read what was sent (if sane) so the client sees the 413 rather than a reset.
            self._drain()
            self._error(413, f"upload of {length} bytes exceeds {svc.max_upload}", close=True)
            return
        body = self.rfile.read(length)
        try:
            parts = _parse_multipart(self.headers.get("Content-Type", ""), body)
        except ValueError as exc:
            self._error(400, f"malformed multipart body: {exc}")
            return
        wanted = [p for p in parts if p[0].get("disposition-name") == "file"]
        if path == "/api/v0/add" and not wanted:
            wanted = [p for p in parts if "disposition-filename" in p[0]]
        if not wanted:
            self._error(400, "missing multipart field 'file'")
            return
        headers, data = wanted[0]
        filename = headers.get("disposition-filename") or "file"
        content_type = headers.get("content-type") or "application/octet-stream"
        faults = svc.faults
        cid = svc._store.add(
            data,
            content_type,
            filename,
            chunk_size=faults.chunk_size,
            raw_leaves=faults.raw_leaves,
        )
        if faults.cid_version == 1 and cid.startswith("Qm"):
            cid = cid_v1(DAG_PB, decode_cid(cid).multihash)
        if svc.faults.wrong_link:
            cid = build_dag(b"not the uploaded bytes:" + data)
        if path == "/file/create":
            answer: dict[str, str] = {"link": f"{svc.gateway_url}/{cid}"}
        else:
            size = svc._store.dag_size(cid) or len(data)
            answer = {"Name": filename, "Hash": cid, "Size": str(size)}
        self._send(200, json.dumps(answer).encode())


def _flip(data: bytes) -> bytes:
    if not data:
        return b"\x00"
    return bytes([data[0] ^ 0xFF]) + data[1:]


class MockPinningService(ThreadedServing[_Server]):
    """A real HTTP pinning service + gateway on loopback (a context manager).

    Args:
        host: bind address (default 127.0.0.1).
        port: bind port (default 0: a free port, see ``.port`` after start).
        state_dir: keep pinned content there so it survives a restart (default: memory).
        max_upload: uploads larger than this many bytes get 413.

    Attributes: ``host``, ``port``, ``base_url``, ``publish_url`` (``/file/create``),
    ``gateway_url`` (``/ipfs``), ``kubo_api_url`` (serves ``/api/v0/add``), ``faults``
    (:class:`Faults`), and request counters (:meth:`count`, :attr:`counts`,
    :attr:`connections`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        max_upload: int = DEFAULT_MAX_UPLOAD,
    ) -> None:
        self.host = host
        self.port = port
        self.max_upload = max_upload
        self.faults = Faults()
        self._state_dir = Path(state_dir) if state_dir is not None else None
        self._store = _Store(self._state_dir)
        self._counts: Counter[tuple[str, str]] = Counter()
        self._connections = 0
        self._count_lock = threading.Lock()
        self._server = None
        self._thread = None

    # -- lifecycle (start/stop/with: ThreadedServing) ----------------------------------------

    _thread_prefix = "mock-pinning"

    def _make_server(self) -> _Server:
        server = _Server((self.host, self.port), _Handler)
        server.service = self
        return server

    # -- addresses --------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def publish_url(self) -> str:
        """OGPU publish endpoint (``/file/create``)."""
        return f"{self.base_url}/file/create"

    @property
    def gateway_url(self) -> str:
        """Gateway prefix (``/ipfs``)."""
        return f"{self.base_url}/ipfs"

    @property
    def kubo_api_url(self) -> str:
        """Kubo RPC API base (serves ``/api/v0/add``)."""
        return self.base_url

    # -- content and counters ---------------------------------------------------------------

    def add(
        self,
        data: bytes,
        content_type: str = "application/octet-stream",
        filename: str = "file",
        *,
        chunk_size: int = CHUNK_SIZE,
        raw_leaves: bool = False,
    ) -> str:
        """Pin ``data`` directly (no HTTP); returns its CID.

        ``chunk_size`` pins with another fixed chunker (like ``ipfs add --chunker=size-N``)
        and ``raw_leaves`` with raw leaf blocks (``--raw-leaves``), giving a CID that
        ``compute_cid`` does not reproduce, to exercise block-by-block verification.
        """
        return self._store.add(
            data, content_type, filename, chunk_size=chunk_size, raw_leaves=raw_leaves
        )

    def has(self, cid: str) -> bool:
        """Whether a file with root ``cid`` (either spelling: v0 or v1) is pinned."""
        try:
            return _lookup_key(cid) in self._store.files
        except IPFSAddressError:
            return False

    def blocks_of(self) -> dict[str, bytes]:
        """A copy of every stored block, by block CID."""
        return dict(self._store.blocks)

    def _count_connection(self) -> None:
        with self._count_lock:
            self._connections += 1

    @property
    def connections(self) -> int:
        """TCP connections accepted since the last :meth:`reset_counts` (keep-alive reuse
        shows as fewer connections than requests)."""
        with self._count_lock:
            return self._connections

    def _count(self, method: str, path: str) -> None:
        with self._count_lock:
            self._counts[(method, path)] += 1

    def count(self, path_prefix: str = "/", method: str | None = None) -> int:
        """Requests received so far whose path starts with ``path_prefix`` (and ``method``)."""
        with self._count_lock:
            return sum(
                n
                for (m, p), n in self._counts.items()
                if p.startswith(path_prefix) and (method is None or m == method)
            )

    @property
    def counts(self) -> dict[str, int]:
        """Snapshot of request counts keyed by ``"METHOD /path"``."""
        with self._count_lock:
            return {f"{m} {p}": n for (m, p), n in self._counts.items()}

    def reset_counts(self) -> None:
        """Zero every request counter."""
        with self._count_lock:
            self._counts.clear()
            self._connections = 0
