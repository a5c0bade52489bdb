"""``ogpu-devnet serve --backend hardhat``: Hardhat's node with the stubs deployed, the pinning
service and the provider runtime beside it, and the same manifest as the py-evm devnet.

One real run: the CLI in a subprocess, the SDK's client flow against it (publish source and
task, the provider's response, the confirmed payload through the pinning service).
Skipped only where Node.js or npm is missing.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ogpu_devnet import DEFAULT_CONTRACTS, DEVNET_CHAIN_ID

pytestmark = pytest.mark.slow

CLIENT_FLOW = """
import json, sys
from ogpu.chain import ChainConfig, ChainId
from ogpu.client import (DeliveryMethod, ImageEnvironments, SourceInfo, TaskInfo, TaskInput,
                         publish_source, publish_task, wait_for_response)
from ogpu.protocol import chain_time, vault
from web3 import Web3

m = json.load(open(sys.argv[1]))
ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=m["rpc_url"], contracts=m["contracts"],
                      ipfs_publish_url=m["ipfs_publish_url"],
                      ipfs_gateway_url=m["ipfs_gateway_url"])
ChainConfig.set_chain(ChainId.OGPU_DEVNET)
client = m["accounts"][1]
vault.deposit(client["address"], 10**17, signer=client["private_key"])
source = publish_source(SourceInfo(
    name="words", description="word counts", logoUrl="",
    imageEnvs=ImageEnvironments(cpu="https://example.org/compose.yml"),
    minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
    deliveryMethod=DeliveryMethod.FIRST_RESPONSE), private_key=client["private_key"])
task = publish_task(TaskInfo(
    source=source.address,
    config=TaskInput(function_name="predict", data={"text": "good day to you"}),
    expiryTime=chain_time() + 600, payment=10**15), private_key=client["private_key"])
response = wait_for_response(task, timeout=120, poll_interval=0.1)
print(json.dumps({"payload": response.fetch_data(),
                  "client_version": Web3(Web3.HTTPProvider(m["rpc_url"])).client_version}))
"""

HANDLER = """
def predict(input_data):
    return {"words": len(input_data["text"].split())}
"""


def test_serve_backend_hardhat_runs_the_client_flow(tmp_path: Path) -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm not found: cannot run Hardhat's node")
    from ogpu_devnet._hardhat import ensure_hardhat

    ensure_hardhat()  # npm ci once (cached in devnet/hardhat/node_modules)
    handler = tmp_path / "handler.py"
    handler.write_text(HANDLER)
    manifest_path = tmp_path / "manifest.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--backend", "hardhat",
         "--rpc-port", "0", "--ipfs-port", "0", "--manifest", str(manifest_path),
         "--provider", f"{handler}:predict"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while not manifest_path.exists():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "serve --backend hardhat did not start"
            time.sleep(0.1)
        manifest = json.loads(manifest_path.read_text())
        # the same manifest as the py-evm devnet: chain id, addresses, funded accounts
        assert manifest["chain_id"] == DEVNET_CHAIN_ID
        assert manifest["contracts"] == DEFAULT_CONTRACTS
        assert manifest["backend"] == "hardhat"

        # the client in its own process: ogpu.chain's configuration is process-wide
        flow = subprocess.run(
            [sys.executable, "-c", CLIENT_FLOW, str(manifest_path)],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert flow.returncode == 0, flow.stderr[-3000:]
        result = json.loads(flow.stdout.strip().splitlines()[-1])
        assert result["client_version"].startswith("HardhatNetwork")
        assert result["payload"] == {"words": 4}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert "Stopping..." in out
