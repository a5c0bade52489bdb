"""``ogpu-devnet serve --provider-source main.py``: the devnet, a provider and a real source
service (ogpu.service in a subprocess), answering a task published from outside."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account
from ogpu.chain import ChainConfig
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Task, controller, nexus, vault
from ogpu.types import SourceParams, TaskParams, TaskStatus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "packages" / "ogpu-service" / "examples" / "sentiment" / "main.py"


@pytest.mark.slow
def test_serve_with_a_source_service_answers_tasks(tmp_path: Path) -> None:
    manifest_path = tmp_path / "manifest.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
         "--chain-id", "31338", "--manifest", str(manifest_path),
         "--provider-source", str(EXAMPLE)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while not manifest_path.exists():
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        m = json.loads(manifest_path.read_text())
        chain = ChainConfig.register_chain(
            31338, "serve-service-test", m["rpc_url"], m["contracts"],
            m["ipfs_publish_url"], m["ipfs_gateway_url"],
        )  # fmt: skip
        client = Account.from_key(m["accounts"][1]["private_key"])
        meta = publish_to_ipfs({"name": "t"}, publish_url=m["ipfs_publish_url"])
        params = SourceParams(
            client=client.address, imageMetadataUrl=meta, imageEnvironments=1, minPayment=1,
            minAvailableLockup=0, maxExpiryDuration=3600, deliveryMethod=1,
        )  # fmt: skip
        source = nexus.extract_source_address(
            nexus.publish_source(params, signer=client, chain=chain), chain=chain
        )
        vault.deposit(client.address, 10**17, signer=client, chain=chain)
        config = publish_to_ipfs(
            {"function_name": "analyze", "data": {"text": "great and helpful"}},
            filename="taskConfig.json",
            publish_url=m["ipfs_publish_url"],
        )
        now = ChainConfig.get_web3(chain).eth.get_block("latest")["timestamp"]
        receipt = controller.publish_task(
            TaskParams(source=source, config=config, expiryTime=now + 600, payment=10**15),
            signer=client,
            chain=chain,
        )
        task = Task(controller.extract_task_address(receipt, chain=chain), chain)
        deadline = time.monotonic() + 60
        while task.get_status() != TaskStatus.FINALIZED:
            assert time.monotonic() < deadline, "the source service did not answer"
            time.sleep(0.1)
        response = task.get_confirmed_response()
        assert response is not None
        assert response.fetch_data() == {"label": "positive", "score": 2.5, "words": 3}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    line = next(x for x in out.splitlines() if "drives the source service at" in x)
    service_port = int(line.split("http://127.0.0.1:")[1].split()[0])
    with socket.socket() as s:  # the service subprocess was stopped with the devnet
        assert s.connect_ex(("127.0.0.1", service_port)) != 0


def test_serve_refuses_a_missing_source_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
         "--provider-source", str(tmp_path / "main.py")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "source service: --provider-source: no such file" in result.stderr
