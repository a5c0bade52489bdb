"""The four wheels, installed into a fresh venv, run the seed's client flow against the devnet.

Builds ``ogpu``, ``ogpu-ipfs``, ``ogpu-protocol`` and ``ogpu-client`` wheels from this tree,
installs them into a new virtual environment (their dependencies from PyPI, pinned by
constraints.txt), and runs the IPFS guide's client snippet there: publish a source and a task
with ogpu.client, then ``Task.load(...).get_confirmed_response().fetch_data()``. The devnet and
the provider runtime run in this test process; the venv sees them only over HTTP.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ogpu_devnet.demo import analyze_text

ROOT = Path(__file__).resolve().parents[1]
DISTS = [".", "packages/ogpu-ipfs", "packages/ogpu-protocol", "packages/ogpu-client"]

CLIENT_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time

    import ogpu
    from ogpu.chain import ChainConfig, ChainId

    m = json.loads(os.environ["OGPU_TEST_MANIFEST"])
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=m["rpc_url"], contracts=m["contracts"],
                          ipfs_publish_url=m["ipfs_publish_url"],
                          ipfs_gateway_url=m["ipfs_gateway_url"])
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)

    from eth_account import Account
    from ogpu.client import (DeliveryMethod, ImageEnvironments, SourceInfo, TaskInfo, TaskInput,
                             publish_source, publish_task)
    from ogpu.protocol import vault

    client = Account.from_key(os.environ["CLIENT_PRIVATE_KEY"]).address
    vault.deposit(client, 10**18, signer=os.environ["CLIENT_PRIVATE_KEY"])
    source = publish_source(SourceInfo(
        name="text-insights", description="wheel test", logoUrl="",
        imageEnvs=ImageEnvironments(cpu="https://example.org/compose.yml"),
        minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
        deliveryMethod=DeliveryMethod.FIRST_RESPONSE))
    now = ChainConfig.get_web3().eth.get_block("latest")["timestamp"]
    published = publish_task(TaskInfo(
        source=source.address,
        config=TaskInput(function_name="analyze", data={"text": "a good and fast day"}),
        expiryTime=now + 600, payment=10**16))

    # The seed's client flow, verbatim apart from the polling.
    from ogpu.protocol import Task

    task = Task.load(published.address)
    deadline = time.monotonic() + 60
    final = task.get_confirmed_response()
    while final is None and time.monotonic() < deadline:
        time.sleep(0.1)
        final = task.get_confirmed_response()
    if final:
        url = final.get_data()      # IPFS URL
        payload = final.fetch_data()  # dict - one HTTP GET
        print(json.dumps({"ogpu": os.path.dirname(ogpu.__file__), "url": url,
                          "payload": payload, "web3": "web3" in sys.modules}))
    else:
        sys.exit("no confirmed response")
    """
)


def _run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert result.returncode == 0, (
        f"{cmd[:4]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the four wheels (and their PyPI dependencies) installed."""
    base = tmp_path_factory.mktemp("wheels")
    wheels = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-q", "-w", str(wheels), *DISTS], cwd=ROOT)  # fmt: skip
    built = sorted(p.name.split("-")[0] for p in wheels.glob("*.whl"))
    assert built == ["ogpu", "ogpu_client", "ogpu_ipfs", "ogpu_protocol"]
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          "-c", str(ROOT / "constraints.txt"), *map(str, wheels.glob("*.whl"))],
         timeout=900)  # fmt: skip
    return python


@pytest.mark.slow
def test_seed_client_flow_from_installed_wheels(wheel_venv: Path, net: Any, providers: Any) -> None:
    group = providers(analyze_text)  # follows every new source, like a provider fleet
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "OGPU_", "VIRTUAL"))}
    env["OGPU_TEST_MANIFEST"] = json.dumps(net.devnet.manifest())
    env["CLIENT_PRIVATE_KEY"] = net.client_key
    result = _run([str(wheel_venv), "-c", CLIENT_SCRIPT], env=env, cwd=wheel_venv.parent.parent,
                  timeout=300)  # fmt: skip
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["payload"] == analyze_text({"text": "a good and fast day"})
    assert answer["ogpu"].startswith(str(wheel_venv.parent.parent))  # the venv, not this tree
    assert "site-packages" in answer["ogpu"]
    assert [o.kind for o in group.outcomes] == ["submitted"]


@pytest.mark.slow
def test_ogpu_ipfs_from_its_wheel_loads_no_web3(wheel_venv: Path) -> None:
    code = (
        "import sys, ogpu.ipfs, ogpu\n"
        "from ogpu.ipfs import publish_to_ipfs, fetch_ipfs_json, IPFSError, IPFSFetchError,"
        " IPFSGatewayError, OGPUError\n"
        "print('web3' in sys.modules)"
    )
    result = _run([str(wheel_venv), "-c", code])
    assert result.stdout.strip() == "False"


@pytest.mark.slow
def test_plain_ogpu_has_no_web_server(wheel_venv: Path) -> None:
    # pip install ogpu (no [service] extra): no web stack installed, none imported.
    listed = _run([str(wheel_venv), "-m", "pip", "list", "--format=freeze"]).stdout.lower()
    assert not {"starlette", "uvicorn", "fastapi", "ogpu-service"} & {
        line.split("==")[0] for line in listed.split()
    }
    code = (
        "import sys, ogpu, ogpu.client, ogpu.protocol, ogpu.ipfs, ogpu.events, ogpu.agent\n"
        "print(sorted(m for m in sys.modules if m.startswith(('starlette', 'uvicorn'))))"
    )
    assert _run([str(wheel_venv), "-c", code]).stdout.strip() == "[]"
