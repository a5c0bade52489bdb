"""``ogpu-devnet serve --provider MODULE:FUNCTION`` and ``ogpu-devnet demo`` as subprocesses."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from eth_account import Account
from ogpu.chain import ChainConfig
from ogpu.protocol import Task, controller, nexus, vault
from ogpu.types import SourceParams, TaskParams, TaskStatus


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "serve did not write its manifest"
        time.sleep(0.1)


def test_serve_with_provider_answers_tasks(tmp_path: Path) -> None:
    manifest_path = tmp_path / "manifest.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
         "--chain-id", "31337", "--manifest", str(manifest_path),
         "--provider", "ogpu_devnet.demo:analyze_text"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    chain = None
    try:
        _wait_for(manifest_path, proc)
        m = json.loads(manifest_path.read_text())
        chain = ChainConfig.register_chain(
            31337, "serve-test", m["rpc_url"], m["contracts"],
            m["ipfs_publish_url"], m["ipfs_gateway_url"],
        )  # fmt: skip
        client = Account.from_key(m["accounts"][1]["private_key"])
        from ogpu.ipfs import publish_to_ipfs

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
            {"function_name": "analyze", "data": {"text": "great"}},
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
            if time.monotonic() > deadline:
                proc.send_signal(signal.SIGINT)
                raise AssertionError(
                    "the served provider did not answer:\n" + proc.communicate()[1]
                )
            time.sleep(0.1)
        response = task.get_confirmed_response()
        assert response is not None
        assert response.fetch_data()["sentiment"]["label"] == "positive"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        if chain is not None:
            ChainConfig.unregister_chain(chain)
    assert proc.returncode == 0, err
    assert "Listening on" in out


def test_demo_runs_the_whole_flow() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ogpu_devnet", "demo"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("source published", "task published", "response submitted",
                 "response confirmed", "payload fetched and verified"):  # fmt: skip
        assert step in result.stdout
    assert "(recomputed: match)" in result.stdout
