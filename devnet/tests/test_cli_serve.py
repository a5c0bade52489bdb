"""``ogpu-devnet serve`` as a user runs it: a subprocess, a manifest, signals."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from ogpu_devnet import DEFAULT_CONTRACTS
from web3 import Web3

MANIFEST_KEYS = {
    "rpc_url",
    "chain_id",
    "contracts",
    "ipfs_publish_url",
    "ipfs_gateway_url",
    "accounts",
}


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_manifest(
    proc: subprocess.Popen[str], path: Path, timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"serve exited early ({proc.returncode}): {out}{err}")
        if path.exists():
            manifest: dict[str, Any] = json.loads(path.read_text())
            return manifest
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not write its manifest in time")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any], Path]]:
    manifest_path = tmp_path / "out" / "devnet.json"
    proc = _serve(
        "--rpc-port", "0", "--ipfs-port", "0", "--manifest", str(manifest_path),
        "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    try:
        yield proc, _wait_for_manifest(proc, manifest_path), tmp_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_writes_manifest_serves_and_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], dict[str, Any], Path],
) -> None:
    proc, manifest, _ = served
    assert set(manifest) == MANIFEST_KEYS
    assert manifest["chain_id"] == 31071
    assert manifest["contracts"] == DEFAULT_CONTRACTS
    assert len(manifest["accounts"]) == 10
    w3: Any = Web3(Web3.HTTPProvider(manifest["rpc_url"]))
    assert w3.eth.chain_id == 31071
    assert len(w3.eth.get_code(manifest["contracts"]["NEXUS"])) > 0

    pinned = requests.post(
        manifest["ipfs_publish_url"],
        files={"file": ("data.json", b'{"a": 1}', "application/json")},
        timeout=10,
    )
    assert pinned.status_code in (200, 201)
    cid = pinned.json()["link"].rsplit("/", 1)[-1]
    assert requests.get(f"{manifest['ipfs_gateway_url']}/{cid}", timeout=10).json() == {"a": 1}

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert manifest["rpc_url"] in out
    assert manifest["ipfs_publish_url"] in out and manifest["ipfs_gateway_url"] in out
    for address in DEFAULT_CONTRACTS.values():
        assert address in out
    assert manifest["accounts"][0]["private_key"] in out  # printed like anvil: public test keys
    with pytest.raises(requests.ConnectionError):
        requests.post(manifest["rpc_url"], json={}, timeout=5)


def test_serve_stops_on_sigint_and_restarts_from_state_dir(
    served: tuple[subprocess.Popen[str], dict[str, Any], Path],
) -> None:
    proc, manifest, tmp_path = served
    w3: Any = Web3(Web3.HTTPProvider(manifest["rpc_url"]))
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    number, head = w3.eth.block_number, w3.eth.get_block("latest").hash
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 0

    manifest_path = tmp_path / "second.json"
    again = _serve(
        "--rpc-port", "0", "--ipfs-port", "0", "--manifest", str(manifest_path),
        "--state-dir", str(tmp_path / "state"),
    )  # fmt: skip
    try:
        restarted = _wait_for_manifest(again, manifest_path)
        w3 = Web3(Web3.HTTPProvider(restarted["rpc_url"]))
        assert w3.eth.block_number == number
        assert w3.eth.get_block("latest").hash == head
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=30)
    assert again.returncode == 0


def test_serve_reports_a_busy_port(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _serve("--rpc-port", str(port), "--ipfs-port", "0")
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert "cannot start" in err


def test_serve_provider_hook_reports_bad_handlers() -> None:
    proc = _serve("--rpc-port", "0", "--ipfs-port", "0", "--provider", "no_such_module_xyz:run")
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert "--provider" in err


def test_serve_help_lists_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0
    for option in (
        "--host", "--rpc-port", "--ipfs-port", "--state-dir", "--chain-id", "--manifest",
        "--unbonding-period", "--min-lockup", "--provider",
    ):  # fmt: skip
        assert option in result.stdout
