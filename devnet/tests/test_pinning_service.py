"""The mock pinning service over real sockets: wire contract, errors, raw blocks, state_dir."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from ogpu.ipfs import compute_cid
from ogpu.ipfs._cid import decode_block, decode_cid, link_to_cid
from ogpu_devnet.ipfs import MockPinningService

BIG = bytes(range(256)) * 2048 + b"!"  # 524289 bytes: three chunks


@pytest.fixture(scope="module")
def svc() -> Iterator[MockPinningService]:
    with MockPinningService(max_upload=1024 * 1024) as service:
        yield service


def post_file(
    url: str, data: bytes, name: str = "f.json", ctype: str = "application/json"
) -> requests.Response:
    return requests.post(url, files={"file": (name, data, ctype)}, timeout=10)


def test_addresses(svc: MockPinningService) -> None:
    assert svc.host == "127.0.0.1" and svc.port > 0
    assert svc.base_url == f"http://127.0.0.1:{svc.port}"
    assert svc.publish_url == svc.base_url + "/file/create"
    assert svc.gateway_url == svc.base_url + "/ipfs"
    assert svc.kubo_api_url == svc.base_url


def test_publish_and_serve_with_content_type(svc: MockPinningService) -> None:
    doc = b'{"x": 1}'
    resp = post_file(svc.publish_url, doc, "response.json", "application/json")
    assert resp.status_code == 200
    link = resp.json()["link"]
    assert link == f"{svc.gateway_url}/{compute_cid(doc)}"
    got = requests.get(link, timeout=10)
    assert got.content == b'{"x": 1}' and got.headers["Content-Type"] == "application/json"


def test_kubo_add(svc: MockPinningService) -> None:
    resp = post_file(
        svc.kubo_api_url + "/api/v0/add?cid-version=0", BIG, "big.bin", "application/octet-stream"
    )
    answer = resp.json()
    assert answer["Hash"] == compute_cid(BIG) and answer["Name"] == "big.bin"
    assert int(answer["Size"]) > len(BIG)
    assert requests.get(f"{svc.gateway_url}/{answer['Hash']}", timeout=10).content == BIG


def test_raw_blocks_for_root_and_leaves(svc: MockPinningService) -> None:
    cid = svc.add(BIG)
    for how in ({"params": {"format": "raw"}}, {"headers": {"Accept": "application/vnd.ipld.raw"}}):
        root = requests.get(f"{svc.gateway_url}/{cid}", timeout=10, **how)  # type: ignore[arg-type]
        assert root.headers["Content-Type"] == "application/vnd.ipld.raw"
        assert hashlib.sha256(root.content).digest() == decode_cid(cid).multihash[2:]
    node = decode_block(root.content)
    assert len(node.links) == 3
    content = b""
    for link in node.links:
        child = link_to_cid(link).text
        block = requests.get(f"{svc.gateway_url}/{child}?format=raw", timeout=10).content
        assert hashlib.sha256(block).digest() == decode_cid(child).multihash[2:]
        content += decode_block(block).data
    assert content == BIG


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", f"/ipfs/{compute_cid(b'never pinned')}", {}, 404),
        ("GET", f"/ipfs/{compute_cid(b'never pinned')}?format=raw", {}, 404),
        ("GET", "/ipfs/not-a-cid", {}, 400),
        ("GET", "/elsewhere", {}, 404),
        (
            "POST",
            "/file/create",
            {"data": b"not multipart", "headers": {"Content-Type": "text/plain"}},
            400,
        ),
        ("POST", "/file/create", {"files": {"other": ("a", b"x")}}, 400),
        (
            "POST",
            "/file/create",
            {
                "data": b"--xx\r\nbroken",
                "headers": {"Content-Type": "multipart/form-data; boundary=xx"},
            },
            400,
        ),
        ("POST", "/nowhere", {"data": b"x"}, 404),
    ],
)
def test_clean_4xx(
    svc: MockPinningService, method: str, path: str, kwargs: dict[str, object], status: int
) -> None:
    resp = requests.request(method, svc.base_url + path, timeout=10, **kwargs)  # type: ignore[arg-type]
    assert resp.status_code == status
    assert "error" in resp.json()


def test_upload_over_limit_is_413(svc: MockPinningService) -> None:
    resp = post_file(svc.publish_url, b"x" * (1024 * 1024 + 1))
    assert resp.status_code == 413
    assert post_file(svc.publish_url, b"small").status_code == 200


def test_unknown_path_below_a_file_is_404(svc: MockPinningService) -> None:
    cid = svc.add(b"a file")
    assert requests.get(f"{svc.gateway_url}/{cid}/sub", timeout=10).status_code == 404


def test_faults_and_counters(svc: MockPinningService) -> None:
    svc.reset_counts()
    svc.faults.fail_next(2, 429, retry_after=3, path_prefix="/ipfs/")
    cid = svc.add(b"faulty")
    first = requests.get(f"{svc.gateway_url}/{cid}", timeout=10)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert requests.get(f"{svc.gateway_url}/{cid}", timeout=10).status_code == 429
    assert requests.get(f"{svc.gateway_url}/{cid}", timeout=10).content == b"faulty"
    assert svc.count(f"/ipfs/{cid}") == 3
    assert svc.counts[f"GET /ipfs/{cid}"] == 3
    svc.faults.wrong_link = True
    link = post_file(svc.publish_url, b"right").json()["link"]
    assert not link.endswith(compute_cid(b"right"))
    svc.faults.corrupt = True
    assert requests.get(f"{svc.gateway_url}/{cid}", timeout=10).content != b"faulty"
    svc.faults.reset()


def test_state_dir_survives_restart(tmp_path: Path) -> None:
    with MockPinningService(state_dir=tmp_path) as first:
        link = post_file(first.publish_url, BIG, "big.bin", "application/x-big").json()["link"]
        small = first.add(b"tiny", "text/plain")
    cid = link.rsplit("/", 1)[1]
    assert (tmp_path / f"{cid}.bin").exists() and (tmp_path / f"{cid}.json").exists()
    with MockPinningService(state_dir=tmp_path) as second:
        got = requests.get(f"{second.gateway_url}/{cid}", timeout=10)
        assert got.content == BIG and got.headers["Content-Type"] == "application/x-big"
        assert requests.get(f"{second.gateway_url}/{cid}?format=raw", timeout=10).status_code == 200
        assert second.has(small)
    with MockPinningService() as memory_only:
        assert not memory_only.has(cid)


def test_cli_starts_serves_and_stops(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "ipfs", "--port", "0", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("mock pinning service at http://127.0.0.1:")
        base = first.split(" at ", 1)[1].strip()
        link = post_file(base + "/file/create", b'{"cli": 1}').json()["link"]
        assert requests.get(link, timeout=10).json() == {"cli": 1}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert list(tmp_path.glob("*.json"))


def test_odd_content_length_is_a_clean_411(svc: MockPinningService) -> None:
    import socket

    request = (
        "POST /file/create HTTP/1.1\r\nHost: x\r\nContent-Length: \u00b2\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    ).encode("latin-1")
    with socket.create_connection((svc.host, svc.port), timeout=10) as sock:
        sock.sendall(request)
        status_line = sock.makefile("rb").readline()
    assert status_line.startswith(b"HTTP/1.1 411")


def test_cidv1_spelling_serves_the_same_content(svc: MockPinningService) -> None:
    import base64

    cid = svc.add(b"either spelling", "text/plain")
    raw = bytes((1, 0x70)) + decode_cid(cid).multihash
    v1 = "b" + base64.b32encode(raw).decode().lower().rstrip("=")
    got = requests.get(f"{svc.gateway_url}/{v1}", timeout=10)
    assert got.content == b"either spelling" and got.headers["Content-Type"] == "text/plain"
    block = requests.get(f"{svc.gateway_url}/{v1}?format=raw", timeout=10).content
    assert hashlib.sha256(block).digest() == decode_cid(cid).multihash[2:]
    assert svc.has(v1) and not svc.has("not-a-cid")


def test_connections_are_counted(svc: MockPinningService) -> None:
    svc.reset_counts()
    with requests.Session() as session:
        for _ in range(3):
            assert session.get(f"{svc.base_url}/health", timeout=10).status_code == 200
    assert svc.connections == 1  # keep-alive: three requests, one connection
    requests.get(f"{svc.base_url}/health", timeout=10)
    assert svc.connections == 2
