"""Build the ogpu-ipfs and ogpu-protocol wheels, install them (without ogpu-client) into a fresh
venv and read a devnet task from there over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def protocol_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A venv with only the ogpu-ipfs and ogpu-protocol wheels (deps from PyPI, constrained)."""
    tmp = tmp_path_factory.mktemp("protocol-venv")
    wheels = tmp / "wheels"
    subprocess.run(
        [
            str(ROOT / ".venv/bin/python"),
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT / "packages/ogpu-ipfs"),
            str(ROOT / "packages/ogpu-protocol"),
        ],
        check=True,
    )
    built = sorted(wheels.glob("*.whl"))
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin/python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-c",
            str(ROOT / "constraints.txt"),
            *map(str, built),
        ],
        check=True,
    )
    return python, built


def test_wheel_ships_abis_and_py_typed(protocol_venv: tuple[Path, list[Path]]) -> None:
    _, built = protocol_venv
    wheel = next(w for w in built if w.name.startswith("ogpu_protocol"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for abi_set in ("mainnet", "testnet"):
        for contract in ("Nexus", "Controller", "Terminal", "Vault", "Source", "Task", "Response"):
            assert f"ogpu/protocol/abis/{abi_set}/{contract}Abi.json" in names
    for pkg in ("types", "chain", "protocol"):
        assert f"ogpu/{pkg}/py.typed" in names
    assert "ogpu/__init__.py" not in names
    # every bundled ABI file of the source tree ships, byte for byte
    abis = ROOT / "packages/ogpu-protocol/src/ogpu/protocol/abis"
    with zipfile.ZipFile(wheel) as zf:
        for path in sorted(abis.glob("*/*.json")):
            name = f"ogpu/protocol/abis/{path.parent.name}/{path.name}"
            assert zf.read(name) == path.read_bytes(), name
    assert not any("client" in n.split("/")[1] for n in names if n.startswith("ogpu/"))


SCRIPT = """
import json, sys
from ogpu.chain import ChainConfig, ChainId
from ogpu.protocol import Task
cfg = json.loads(sys.argv[1])
ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=cfg["rpc"], contracts=cfg["contracts"],
                      ipfs_gateway_url=cfg["gateway"])
ChainConfig.set_chain(ChainId.OGPU_DEVNET)
task = Task.load(cfg["task"])
snap = task.snapshot()
try:
    import ogpu.client  # noqa: F401
    has_client = True
except ImportError:
    has_client = False
print(json.dumps({"status": snap.status.name, "payment": snap.payment, "source": snap.source,
                  "config": task.get_metadata(), "has_client": has_client}))
"""


def test_read_devnet_task_from_fresh_venv(protocol_venv: tuple[Path, list[Path]], net: Any) -> None:
    python, _ = protocol_venv
    source, task = net.full_task()
    cfg = {
        "rpc": net.rpc_url,
        "contracts": dict(net.devnet.contracts),
        "gateway": net.devnet.ipfs.gateway_url,
        "task": task.address,
    }
    out = subprocess.run(
        [str(python), "-c", SCRIPT, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=str(python.parent),
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result == {
        "status": "NEW",
        "payment": 100,
        "source": source.address,
        "config": {"function_name": "predict", "data": {"x": 1}},
        "has_client": False,
    }
    assert sys.executable != str(python)
