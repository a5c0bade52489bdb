"""``fetch_to_file``: a fetch streamed to disk, verified, renamed whole or not at all.

Over the mock pinning service and, for a body that breaks mid-stream, a small real HTTP
server in this file (a socket closed after half the declared Content-Length).
"""

from __future__ import annotations

import os
import random
import stat
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ogpu.ipfs import (
    IPFSConfigError,
    IPFSFetchError,
    IPFSIntegrityError,
    IPFSTooLargeError,
    compute_cid,
    fetch_to_file,
    publish_bytes,
)
from ogpu.ipfs._cid import DagBuilder, build_dag
from ogpu_devnet.ipfs import MockPinningService

LARGE = bytes(range(256)) * 3000  # 768,000 bytes: three 256 KiB chunks
SMALL = b'{"result": "cat"}'


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_dag_builder_matches_build_dag_for_any_split() -> None:
    rng = random.Random(7)
    for data in (b"", b"x", SMALL, LARGE, LARGE[: 262144 * 2]):
        for _ in range(3):
            builder = DagBuilder()
            pos = 0
            while pos < len(data):
                step = rng.choice((1, 1000, 65536, 262144, 300000))
                builder.update(data[pos : pos + step])
                pos += step
            assert builder.root() == build_dag(data) == compute_cid(data)
    small = DagBuilder(chunk_size=3, max_links=2, raw_leaves=True)
    small.update(b"abcdefghij")
    assert small.root() == build_dag(b"abcdefghij", chunk_size=3, max_links=2, raw_leaves=True)


def test_verified_fetch_lands_whole_with_a_normal_mode(
    svc: MockPinningService, tmp_path: Path
) -> None:
    url = f"{svc.gateway_url}/{svc.add(LARGE)}"
    target = tmp_path / "model.bin"
    got = fetch_to_file(url, target, verify=True)
    assert got == target and target.read_bytes() == LARGE
    assert _names(tmp_path) == ["model.bin"]  # no temporary file left beside it
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert svc.count("/ipfs/", "GET") == 1  # the default DAG is checked while streaming


@pytest.mark.parametrize(
    ("layout", "data"),
    [
        ({"chunk_size": 1024 * 1024}, LARGE),
        ({"chunk_size": 64 * 1024, "raw_leaves": True, "cid_version": 1}, LARGE),
        ({"chunk_size": 64 * 1024, "raw_leaves": True, "cid_version": 1}, SMALL),  # raw CID
        ({"chunk_size": 16}, SMALL),
    ],
    ids=["1MiB", "raw-leaves-large", "raw-block", "small-chunks"],
)
def test_other_layouts_are_verified_block_by_block(
    svc: MockPinningService, tmp_path: Path, layout: dict[str, int], data: bytes
) -> None:
    svc.faults.other_chunking(**layout)  # type: ignore[arg-type]
    link = publish_bytes(data)
    target = fetch_to_file(link, tmp_path / "out", verify=True)
    assert target.read_bytes() == data and _names(tmp_path) == ["out"]


def test_bytes_that_fail_their_cid_leave_nothing(svc: MockPinningService, tmp_path: Path) -> None:
    url = f"{svc.gateway_url}/{svc.add(LARGE)}"
    svc.faults.corrupt = True
    with pytest.raises(IPFSIntegrityError):
        fetch_to_file(url, tmp_path / "new.bin", verify=True)
    assert _names(tmp_path) == []
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"previous")
    with pytest.raises(IPFSIntegrityError):
        fetch_to_file(url, kept, verify=True, overwrite=True)
    assert kept.read_bytes() == b"previous" and _names(tmp_path) == ["kept.bin"]


def test_other_layout_with_other_bytes_is_an_integrity_error(
    svc: MockPinningService, tmp_path: Path
) -> None:
    svc.faults.other_chunking(16)
    link = publish_bytes(SMALL)
    svc.faults.corrupt = True  # content flipped; its blocks are still right
    with pytest.raises(IPFSIntegrityError, match="differ"):
        fetch_to_file(link, tmp_path / "out", verify=True)
    assert _names(tmp_path) == []


def test_bad_targets_are_refused_before_any_request(
    svc: MockPinningService, tmp_path: Path
) -> None:
    url = f"{svc.gateway_url}/{svc.add(SMALL)}"
    existing = tmp_path / "existing"
    existing.write_bytes(b"mine")
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "nowhere")
    svc.reset_counts()
    for target, message in (
        (existing, "exists"),
        (dangling, "exists"),
        (tmp_path / "no" / "dir" / "x", "no directory"),
        (tmp_path, "is a directory"),
    ):
        with pytest.raises(IPFSConfigError, match=message):
            fetch_to_file(url, target)
    for bad in (b"bytes-path", 3):
        with pytest.raises(IPFSConfigError):
            fetch_to_file(url, bad)  # type: ignore[arg-type]
    with pytest.raises(IPFSConfigError):
        fetch_to_file(url, tmp_path / "x", overwrite="yes")  # type: ignore[arg-type]
    with pytest.raises(IPFSConfigError):
        fetch_to_file(url, tmp_path / "x", max_bytes=-1)
    assert svc.count("/") == 0
    assert existing.read_bytes() == b"mine"
    assert _names(tmp_path) == ["existing", "link"]
    assert fetch_to_file(url, existing, overwrite=True).read_bytes() == SMALL


def test_the_size_cap_holds_mid_stream(svc: MockPinningService, tmp_path: Path) -> None:
    url = f"{svc.gateway_url}/{svc.add(LARGE)}"
    svc.faults.omit_content_length = True  # no early refusal: the cap stops the stream
    with pytest.raises(IPFSTooLargeError):
        fetch_to_file(url, tmp_path / "big", max_bytes=100_000)
    assert _names(tmp_path) == []


class _Script:
    """What the test server does per request: a list of callables, one per attempt."""

    def __init__(self) -> None:
        self.steps: list[Callable[[BaseHTTPRequestHandler], None]] = []
        self.requests = 0


@pytest.fixture
def server() -> Iterator[tuple[str, _Script]]:
    script = _Script()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            script.requests += 1
            step = script.steps.pop(0) if script.steps else _whole
            step(self)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/ipfs/{compute_cid(LARGE)}", script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _head(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/octet-stream")
    handler.send_header("Content-Length", str(len(LARGE)))
    handler.send_header("Connection", "close")
    handler.end_headers()


def _whole(handler: BaseHTTPRequestHandler) -> None:
    _head(handler)
    handler.wfile.write(LARGE)


def _half_then_close(handler: BaseHTTPRequestHandler) -> None:
    _head(handler)
    handler.wfile.write(LARGE[: len(LARGE) // 2])
    handler.wfile.flush()
    handler.close_connection = True


def test_a_body_broken_mid_stream_leaves_no_file(
    server: tuple[str, _Script], tmp_path: Path
) -> None:
    url, script = server
    script.steps = [_half_then_close]
    kept = tmp_path / "kept.bin"
    kept.write_bytes(b"previous")
    with pytest.raises(IPFSFetchError):
        fetch_to_file(url, tmp_path / "new.bin", retries=0)
    script.steps = [_half_then_close]
    with pytest.raises(IPFSFetchError):
        fetch_to_file(url, kept, retries=0, overwrite=True)
    assert script.requests == 2
    assert _names(tmp_path) == ["kept.bin"] and kept.read_bytes() == b"previous"


def test_a_retry_after_a_broken_body_starts_the_file_over(
    server: tuple[str, _Script], tmp_path: Path
) -> None:
    url, script = server
    script.steps = [_half_then_close, _half_then_close]
    target = fetch_to_file(url, tmp_path / "out", retries=2, backoff=0.0, verify=True)
    assert script.requests == 3
    assert target.read_bytes() == LARGE and _names(tmp_path) == ["out"]


def test_a_file_appearing_while_fetching_is_not_replaced(
    server: tuple[str, _Script], tmp_path: Path
) -> None:
    url, script = server
    target = tmp_path / "out"

    def someone_else_writes_first(handler: BaseHTTPRequestHandler) -> None:
        target.write_bytes(b"theirs")
        _whole(handler)

    script.steps = [someone_else_writes_first]
    with pytest.raises(IPFSConfigError, match="appeared"):
        fetch_to_file(url, target, verify=True)
    assert target.read_bytes() == b"theirs" and _names(tmp_path) == ["out"]
