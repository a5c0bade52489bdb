"""The ogpu-ipfs CLI, run as a subprocess against the mock pinning service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ogpu.ipfs import compute_cid
from ogpu_devnet.ipfs import MockPinningService


def cli(
    *args: str, svc: MockPinningService | None = None, stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    if svc is not None:
        env["OGPU_IPFS_PUBLISH_URL"] = svc.publish_url
        env["OGPU_IPFS_GATEWAY"] = svc.gateway_url
    return subprocess.run(
        [sys.executable, "-m", "ogpu.ipfs", *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=60,
    )


def test_help() -> None:
    out = cli("--help")
    assert out.returncode == 0
    for command in (b"publish", b"fetch", b"cid"):
        assert command in out.stdout


def test_cid_prints_only_the_cid(tmp_path: Path) -> None:
    file = tmp_path / "hello.txt"
    file.write_bytes(b"hello")
    assert cli("cid", str(file)).stdout == b"QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX\n"
    assert cli("cid", "-", stdin=b"").stdout.decode().strip() == compute_cid(b"")


def test_publish_then_fetch(svc: MockPinningService, tmp_path: Path) -> None:
    file = tmp_path / "doc.json"
    doc = b'{"cli": true}'
    file.write_bytes(doc)
    published = cli("publish", str(file), svc=svc)
    assert published.returncode == 0, published.stderr
    url = published.stdout.decode().strip()
    assert url == f"{svc.gateway_url}/{compute_cid(doc)}"
    fetched = cli("fetch", url, "--verify", svc=svc)
    assert (fetched.returncode, fetched.stdout) == (0, b'{"cli": true}')
    out = tmp_path / "out.bin"
    assert cli("fetch", url, "-o", str(out), svc=svc).returncode == 0
    assert out.read_bytes() == b'{"cli": true}'
    from_stdin = cli("publish", "-", svc=svc, stdin=b"piped")
    assert from_stdin.stdout.decode().strip().endswith(compute_cid(b"piped"))


def test_failures_are_one_line_and_non_zero(svc: MockPinningService, tmp_path: Path) -> None:
    url = f"{svc.gateway_url}/{svc.add(b'will be corrupted')}"
    svc.faults.corrupt = True
    for args in (
        ("fetch", url, "--verify"),
        ("fetch", "not-a-cid"),
        ("cid", str(tmp_path / "missing")),
    ):
        out = cli(*args, svc=svc)
        assert out.returncode == 1
        lines = out.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ogpu-ipfs: error:"), lines
    assert cli("bogus").returncode == 2


def test_output_file_is_never_half_written(svc: MockPinningService, tmp_path: Path) -> None:
    url = f"{svc.gateway_url}/{svc.add(b'whole')}"
    out = tmp_path / "out.bin"
    out.write_bytes(b"previous content")
    svc.faults.corrupt = True
    failed = cli("fetch", url, "--verify", "-o", str(out), svc=svc)
    assert failed.returncode == 1 and failed.stderr.decode().count("\n") == 1
    assert out.read_bytes() == b"previous content"  # a failed fetch leaves it as it was
    svc.faults.corrupt = False
    assert cli("fetch", url, "--verify", "-o", str(out), svc=svc).returncode == 0
    assert out.read_bytes() == b"whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]  # no temporary files


def test_unwritable_output_fails_before_fetching(svc: MockPinningService, tmp_path: Path) -> None:
    url = f"{svc.gateway_url}/{svc.add(b'never fetched')}"
    svc.reset_counts()
    for target in (tmp_path / "no" / "such" / "dir.bin", tmp_path):
        out = cli("fetch", url, "-o", str(target), svc=svc)
        assert out.returncode == 1
        assert out.stderr.decode().startswith("ogpu-ipfs: error: cannot write")
    assert svc.count("/") == 0
