"""The chain data the read, payload and write workloads use, built once per ``make bench``.

On a fresh devnet (``ogpu-devnet serve`` in a subprocess), straight to its endpoints (no proxy):

- a *dashboard source* with ``DASHBOARD_TASKS`` tasks;
- ``PROVIDERS`` providers (fresh keys, funded, deposit + lock in the Vault); the first
  ``RESPONDERS`` register to a manual-confirmation source, attempt each of its
  ``PAYLOAD_TASKS`` tasks and submit a response whose data is a distinct JSON document pinned
  in the devnet's pinning service (its URL points at the counting proxy's gateway path);
- two writer keys (one per SDK) with Vault deposits for the write workloads.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.crypto import keccak

DASHBOARD_TASKS = 250
PROVIDERS = 50
RESPONDERS = 20
PAYLOAD_TASKS = 5  # x RESPONDERS responses = the payload workload's 100 responses
ETHER = 10**18


@dataclass
class ServedDevnet:
    """``ogpu-devnet serve`` running in a subprocess; ``manifest`` is what it wrote."""

    proc: subprocess.Popen[bytes]
    manifest: dict[str, Any]
    started_in: float
    tmp: tempfile.TemporaryDirectory[str] = field(repr=False)

    def stop(self) -> None:
        """Terminate the server (and wait for it)."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.tmp.cleanup()


def serve(*extra: str, timeout: float = 300) -> ServedDevnet:
    """Start ``ogpu-devnet serve *extra`` on free ports; returns once it answers eth_chainId."""
    import requests

    tmp = tempfile.TemporaryDirectory(prefix="ogpu-bench-")
    manifest_path = Path(tmp.name) / "manifest.json"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
         "--manifest", str(manifest_path), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while not manifest_path.exists():
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"ogpu-devnet serve {' '.join(extra)} exited: {err[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("ogpu-devnet serve did not start in time")
            time.sleep(0.01)
        manifest = json.loads(manifest_path.read_text())
        answer = requests.post(
            manifest["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}
        ).json()
        assert int(answer["result"], 16) == manifest["chain_id"]
        started = time.perf_counter() - t0
    except BaseException:
        proc.kill()
        proc.wait()
        tmp.cleanup()
        raise
    return ServedDevnet(proc, manifest, started, tmp)


def _configure(manifest: dict[str, Any]) -> Any:
    from ogpu.chain import ChainConfig, ChainId

    ChainConfig.configure(
        ChainId.OGPU_DEVNET,
        rpc_url=manifest["rpc_url"],
        contracts=manifest["contracts"],
        ipfs_publish_url=manifest["ipfs_publish_url"],
        ipfs_gateway_url=manifest["ipfs_gateway_url"],
    )
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)
    return ChainId.OGPU_DEVNET


def build(manifest: dict[str, Any], gateway_for_urls: str) -> dict[str, Any]:
    """Create the data on the devnet; returns the addresses and keys the workloads use.

    ``gateway_for_urls``: the gateway base written into the responses' data URLs (the proxy's).
    """
    import requests
    from ogpu.chain import ChainConfig
    from ogpu.protocol import Provider, Source, controller, nexus, vault
    from ogpu.types import SourceParams, TaskParams
    from ogpu_devnet.provider import submit_response

    chain = _configure(manifest)
    accounts = manifest["accounts"]
    funder, client = accounts[0], accounts[1]
    w3: Any = ChainConfig.get_web3(chain)

    vault.deposit(client["address"], 1000 * ETHER, signer=client["private_key"])
    now = int(w3.eth.get_block("latest")["timestamp"])

    def source(delivery: int) -> str:
        receipt = nexus.publish_source(
            SourceParams(
                client=client["address"],
                imageMetadataUrl="ipfs://bench-meta",
                imageEnvironments=1,
                minPayment=1,
                minAvailableLockup=0,
                maxExpiryDuration=86400 * 30,
                deliveryMethod=delivery,
            ),
            signer=client["private_key"],
        )
        return nexus.extract_source_address(receipt)

    dashboard = source(1)
    for i in range(DASHBOARD_TASKS):
        controller.publish_task(
            TaskParams(source=dashboard, config=f"ipfs://t{i}", expiryTime=now + 86400, payment=1),
            signer=client["private_key"],
        )

    keys = ["0x" + keccak(f"ogpu-bench-provider-{i}".encode()).hex() for i in range(PROVIDERS)]
    providers = [Account.from_key(k) for k in keys]
    writers = [Account.from_key("0x" + keccak(f"ogpu-bench-writer-{s}".encode()).hex()) for s in ("ours", "theirs")]  # fmt: skip
    for acct in providers + writers:
        w3.eth.send_transaction({"from": funder["address"], "to": acct.address, "value": 10 * ETHER})  # fmt: skip
    for acct in writers:
        vault.deposit(acct.address, 5 * ETHER, signer=acct.key.to_0x_hex())

    manual = source(0)
    min_lockup = vault.get_min_lockup_per_source()

    def stake(acct: Any) -> None:
        key = acct.key.to_0x_hex()
        vault.deposit(acct.address, ETHER, signer=key)
        vault.lock(max(min_lockup, 1) * 2, signer=key)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(stake, providers))
        responders = providers[:RESPONDERS]
        list(pool.map(lambda a: nexus.register(manual, a.address, 1, signer=a.key.to_0x_hex()), responders))  # fmt: skip

    payload_tasks = []
    for t in range(PAYLOAD_TASKS):
        receipt = controller.publish_task(
            TaskParams(source=manual, config=f"ipfs://p{t}", expiryTime=now + 86400, payment=10),
            signer=client["private_key"],
        )
        payload_tasks.append(controller.extract_task_address(receipt))

    def respond(job: tuple[str, int, Any]) -> str:
        task, t, acct = job
        doc = {"task": t, "provider": acct.address, "result": [i * t for i in range(64)]}
        pinned = requests.post(
            manifest["ipfs_publish_url"],
            files={"file": ("response.json", json.dumps(doc).encode(), "application/json")},
            timeout=30,
        ).json()
        cid = pinned["link"].rstrip("/").rsplit("/", 1)[1]
        Provider(acct.address).attempt(task, 10, signer=acct.key.to_0x_hex())
        return submit_response(chain, acct, task, f"{gateway_for_urls}/{cid}", 10).response

    jobs = [(task, t, acct) for t, task in enumerate(payload_tasks) for acct in responders]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(respond, jobs))

    assert len(Source(dashboard).get_tasks()) == DASHBOARD_TASKS
    return {
        "contracts": manifest["contracts"],
        "dashboard_source": dashboard,
        "task": Source(dashboard).get_tasks(0, 1)[0].address,
        "responses_task": payload_tasks[0],
        "providers": [a.address for a in providers],
        "payload_responses": responses,
        "writers": {
            side: {"address": acct.address, "key": acct.key.to_0x_hex()}
            for side, acct in zip(("ours", "theirs"), writers, strict=True)
        },
    }
