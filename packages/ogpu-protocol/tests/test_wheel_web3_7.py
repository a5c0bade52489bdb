"""ogpu-protocol declares ``web3>=7.12,<9``: prove the floor. The ogpu-ipfs and ogpu-protocol
wheels go into a fresh venv with web3 7.12.0 and the oldest eth-abi / eth-utils / eth-account
/ eth-typing / hexbytes the ranges admit; from there a devnet task is read (one snapshot), a
Vault deposit is sent, a revert comes back typed, and web3.py 7's own contract API works."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow

#: The floors of ogpu-protocol's ranges (pyproject.toml), as a project pinned to web3 7 has.
FLOORS = {
    "web3": "7.12.0",
    "eth-abi": "5.2.0",
    "eth-utils": "5.3.1",
    "eth-account": "0.13.7",
    "eth-typing": "5.2.1",
    "hexbytes": "1.3.1",
    "eth-keyfile": "0.8.1",
}
#: What web3 7.12 itself needs older than the workspace pins (websockets<16).
WEB3_7_NEEDS = {"websockets": "15.0.1"}


@pytest.fixture(scope="module")
def web3_7_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("web3-7")
    wheels = tmp / "wheels"
    subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            *("-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w"),
            str(wheels),
            str(ROOT / "packages/ogpu-ipfs"),
            str(ROOT / "packages/ogpu-protocol"),
        ],
        check=True,
    )
    # The workspace pins for everything else, so the venv is reproducible.
    own = {**FLOORS, **WEB3_7_NEEDS}
    pinned = {k.replace("_", "-").lower() for k in own}
    lines = [
        line
        for line in (ROOT / "constraints.txt").read_text().splitlines()
        if line
        and not line.startswith("#")
        and line.split("==")[0].replace("_", "-").lower() not in pinned
    ]
    constraints = tmp / "constraints.txt"
    constraints.write_text("\n".join([*lines, *(f"{k}=={v}" for k, v in own.items())]) + "\n")
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin/python"
    subprocess.run(
        [
            str(python),
            *("-m", "pip", "install", "-q", "--disable-pip-version-check", "-c"),
            str(constraints),
            *map(str, sorted(wheels.glob("*.whl"))),
        ],
        check=True,
    )
    return python


SCRIPT = """
import json, sys
from importlib.metadata import version
from ogpu.chain import ChainConfig, ChainId
from ogpu.protocol import Task, load_contract, vault
from ogpu.types import InsufficientBalanceError
cfg = json.loads(sys.argv[1])
ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=cfg["rpc"], contracts=cfg["contracts"],
                      ipfs_gateway_url=cfg["gateway"])
ChainConfig.set_chain(ChainId.OGPU_DEVNET)
snap = Task.load(cfg["task"]).snapshot()
before = vault.get_balance_of(cfg["address"])
receipt = vault.deposit(cfg["address"], 1234, signer=cfg["key"])
after = vault.get_balance_of(cfg["address"])
try:
    vault.withdraw(10**30, signer=cfg["key"])
    revert = None
except InsufficientBalanceError as e:
    revert = [e.account, e.required]
web3_balance = load_contract("VaultAbi").functions.balanceOf(cfg["address"]).call()
print(json.dumps({
    "versions": {d: version(d) for d in sys.argv[2:]},
    "status": snap.status.name, "payment": snap.payment, "source": snap.source,
    "receipt_status": receipt.status, "deposited": after - before, "revert": revert,
    "web3_balance": web3_balance, "sdk_balance": after,
}))
"""


def test_snapshot_and_transaction_with_web3_7(web3_7_python: Path, net: Any) -> None:
    source, task = net.full_task()
    cfg = {
        "rpc": net.rpc_url,
        "contracts": dict(net.devnet.contracts),
        "gateway": net.devnet.ipfs.gateway_url,
        "task": task.address,
        "address": net.other.address,
        "key": net.other.private_key,
    }
    out = subprocess.run(
        [str(web3_7_python), "-c", SCRIPT, json.dumps(cfg), *FLOORS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(web3_7_python.parent),
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result.pop("versions") == FLOORS
    assert result == {
        "status": "NEW",
        "payment": 100,
        "source": source.address,
        "receipt_status": 1,
        "deposited": 1234,
        "revert": [net.other.address, 10**30],
        "web3_balance": result["sdk_balance"],
        "sdk_balance": result["sdk_balance"],
    }
