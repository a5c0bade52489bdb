"""The ogpu-ipfs wheel installed alone into a fresh venv: imports, no web3, publish + fetch."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest
from ogpu_devnet.ipfs import MockPinningService

ROOT = Path(__file__).resolve().parents[3]

CLIENT = """
import sys
from ogpu.ipfs import (publish_to_ipfs, fetch_ipfs_json, fetch_ipfs_bytes, compute_cid,
    IPFSError, IPFSFetchError, IPFSGatewayError, IPFSIntegrityError, OGPUError)
try:
    import web3
except ImportError:
    print("no-web3")
publish_url, gateway = sys.argv[1], sys.argv[2]
url = publish_to_ipfs({"from": "venv"}, publish_url=publish_url, gateway=gateway)
assert fetch_ipfs_json(url, verify=True) == {"from": "venv"}
print("ok", url)
"""


@pytest.mark.slow
def test_wheel_alone_in_a_fresh_venv(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT / "packages" / "ogpu-ipfs")],
        check=True,
    )  # fmt: skip
    (wheel,) = wheels.glob("ogpu_ipfs-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
    )  # fmt: skip
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
    ).stdout.lower()
    assert "web3" not in listed and "ogpu-ipfs==" in listed
    with MockPinningService() as svc:
        out = subprocess.run(
            [str(python), "-c", CLIENT, svc.publish_url, svc.gateway_url],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert out.returncode == 0, out.stderr
        assert "no-web3" in out.stdout and f"ok {svc.gateway_url}/Qm" in out.stdout
        assert svc.count("/file/create") == 1
    # The console script is installed too.
    assert (env_dir / "bin" / "ogpu-ipfs").exists()
