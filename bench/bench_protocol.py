"""Round trips and wall time of Task.snapshot() and of snapshots of 50 tasks, ours vs the
published ogpu 0.2.3, against a devnet behind a loopback proxy adding LATENCY per request.

One run; prints counts and the ratio. Nothing is asserted.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

LATENCY = 0.02  # seconds added to every HTTP request (a remote node)
N_TASKS = 50


class LatencyProxy:
    """Forwards POSTs to ``target`` after ``LATENCY``; counts requests per URL path."""

    def __init__(self, target: str) -> None:
        self.counts: Counter[str] = Counter()
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    outer.counts[self.path] += 1
                time.sleep(LATENCY)
                req = urllib.request.Request(
                    target, data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=60) as up:
                    answer = up.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


PUBLISHED = """
import json, sys, time
from ogpu.chain import ChainConfig, ChainId
from ogpu.protocol import Task
proxy, addrs = sys.argv[1], json.loads(sys.argv[2])
ChainConfig.set_rpc(proxy + "/calib", chain=ChainId.OGPU_MAINNET)
ChainConfig.set_rpc(proxy + "/single", chain=ChainId.OGPU_MAINNET)
t0 = time.perf_counter(); Task(addrs[0]).snapshot(); single = time.perf_counter() - t0
ChainConfig.set_rpc(proxy + "/many", chain=ChainId.OGPU_MAINNET)
t0 = time.perf_counter(); [Task(a).snapshot() for a in addrs]; many = time.perf_counter() - t0
print(json.dumps({"single": single, "many": many}))
"""


def main() -> int:
    from ogpu.chain import ChainConfig, ChainId
    from ogpu.protocol import Source, Task, controller, nexus, snapshot_all, vault
    from ogpu.types import SourceParams, TaskParams
    from ogpu_devnet import Devnet

    with Devnet() as net:
        client = net.accounts[1]
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url, contracts=net.contracts)
        ChainConfig.set_chain(ChainId.OGPU_DEVNET)
        receipt = nexus.publish_source(
            SourceParams(
                client=client.address,
                imageMetadataUrl="ipfs://meta",
                imageEnvironments=1,
                minPayment=1,
                minAvailableLockup=0,
                maxExpiryDuration=3600,
            ),
            signer=client.private_key,
        )
        source = Source(nexus.extract_source_address(receipt))
        vault.deposit(client.address, 10**18, signer=client.private_key)
        now = int(time.time()) + 10**6
        block = ChainConfig.rpc_client().request("eth_getBlockByNumber", ["latest", False])
        now = int(block["timestamp"], 16)
        for i in range(N_TASKS):
            controller.publish_task(
                TaskParams(
                    source=source.address, config=f"ipfs://t{i}", expiryTime=now + 3000, payment=1
                ),
                signer=client.private_key,
            )
        tasks = source.get_tasks()
        proxy = LatencyProxy(net.rpc_url)

        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=proxy.url + "/ours-single")
        t0 = time.perf_counter()
        tasks[0].snapshot()
        ours_single = time.perf_counter() - t0
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=proxy.url + "/ours-many")
        t0 = time.perf_counter()
        snapshot_all([Task(t.address) for t in tasks])
        ours_many = time.perf_counter() - t0

        published: dict[str, float] | None = None
        try:
            from _published import published_python

            python = published_python()
            out = subprocess.run(
                [str(python), "-c", PUBLISHED, proxy.url, json.dumps([t.address for t in tasks])],
                capture_output=True,
                text=True,
                timeout=600,
                check=True,
            )
            published = json.loads(out.stdout.strip().splitlines()[-1])
        except Exception as exc:  # the comparison is optional (needs PyPI access)
            print(f"published SDK not measured: {exc}")

    c = proxy.counts
    print(f"latency per request: {LATENCY * 1000:.0f} ms; {N_TASKS} tasks")
    print(
        f"ours      Task.snapshot(): {c['/ours-single']} round trip(s), {ours_single * 1000:.1f} ms"
    )
    print(
        f"ours      {N_TASKS} snapshots (snapshot_all): {c['/ours-many']} round trip(s), "
        f"{ours_many * 1000:.1f} ms"
    )
    if published is not None:
        probe = c["/calib"]
        single_rt, many_rt = c["/single"] - probe, c["/many"] - probe
        print(
            f"published Task.snapshot(): {single_rt} round trip(s), {published['single'] * 1000:.1f} ms"
        )
        print(
            f"published {N_TASKS} snapshots: {many_rt} round trip(s), {published['many'] * 1000:.1f} ms"
        )
        print(
            f"ratio (published / ours) single: {published['single'] / ours_single:.1f}x time, "
            f"{single_rt / max(1, c['/ours-single']):.0f}x round trips"
        )
        print(
            f"ratio (published / ours) {N_TASKS} tasks: {published['many'] / ours_many:.1f}x time, "
            f"{many_rt / max(1, c['/ours-many']):.0f}x round trips"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
