"""``ogpu-devnet deploy`` onto a running node (here: the session devnet, inside a snapshot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

pytestmark = pytest.mark.usefixtures("devnet_isolated")


def _deploy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ogpu_devnet", "deploy", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_deploy_writes_manifest_and_never_prints_the_key(
    devnet: Any, devnet_accounts: list[Any], tmp_path: Path
) -> None:
    deployer = devnet_accounts[7]
    key = deployer.private_key
    manifest_path = tmp_path / "manifest.json"
    result = _deploy(
        "--rpc-url", devnet.rpc_url, "--private-key-env", "OGPU_TEST_DEPLOYER",
        "--manifest", str(manifest_path),
        env={"OGPU_TEST_DEPLOYER": key},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert key not in result.stdout + result.stderr
    assert key[2:] not in result.stdout + result.stderr
    manifest = json.loads(manifest_path.read_text())
    assert set(manifest) == {
        "rpc_url", "chain_id", "contracts", "ipfs_publish_url", "ipfs_gateway_url", "accounts",
    }  # fmt: skip
    assert manifest["rpc_url"] == devnet.rpc_url and manifest["chain_id"] == 31071
    assert manifest["accounts"] == []
    w3: Any = Web3(Web3.HTTPProvider(devnet.rpc_url))
    for name in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT"):
        address = manifest["contracts"][name]
        assert address in result.stdout
        assert len(w3.eth.get_code(address)) > 0
        assert address != devnet.contracts[name]  # a second, independent deployment


def test_deploy_usage_errors(devnet: Any) -> None:
    missing = _deploy("--rpc-url", devnet.rpc_url, "--private-key-env", "OGPU_TEST_UNSET_VAR")
    assert missing.returncode == 2 and "OGPU_TEST_UNSET_VAR" in missing.stderr

    secret = Account.create().key.hex()
    unreachable = _deploy(
        "--rpc-url", "http://127.0.0.1:9", "--private-key-env", "OGPU_TEST_KEY",
        "--timeout", "2", env={"OGPU_TEST_KEY": secret},
    )  # fmt: skip
    assert unreachable.returncode == 1 and "cannot reach" in unreachable.stderr
    assert secret not in unreachable.stdout + unreachable.stderr

    unfunded = _deploy(
        "--rpc-url", devnet.rpc_url, "--private-key-env", "OGPU_TEST_KEY",
        env={"OGPU_TEST_KEY": secret},
    )  # fmt: skip
    assert unfunded.returncode == 1
    assert secret not in unfunded.stdout + unfunded.stderr
