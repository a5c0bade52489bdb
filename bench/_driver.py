"""One side of a benchmark workload, run in a subprocess: ``python _driver.py SIDE CONFIG``.

``SIDE`` is ``ours`` (run with the workspace's python) or ``theirs`` (run with the python of the
published ogpu 0.2.3's venv, see ``_published.py``). Both sides make the same calls through
their own public API, against the same devnet and pinning service, through the counting proxy.
The published SDK is pointed there by harness-only patching of its configuration inside this
process (its contract table, RPC URL and publish URL); none of its code is in the project.

CONFIG (a JSON file) names the workload, the number of runs, the endpoints and the chain data.
Each run is announced to the proxy as phase ``SIDE/WORKLOAD/N`` (``.../warmup`` first, not
reported). Prints one JSON line: wall seconds per run, items per run (a check that the reads
returned everything), nonces used per run for writes.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))


def set_phase(proxy_base: str, name: str) -> None:
    """Tell the counting proxy at ``proxy_base`` (``_proxy.CountingProxy``) that phase ``name``
    starts. Here, not in ``_proxy``: this side may run in the published SDK's venv, which has
    no ogpu_devnet."""
    conn = http.client.HTTPConnection(urllib.parse.urlsplit(proxy_base).netloc, timeout=10)
    try:
        conn.request("POST", "/_phase/" + urllib.parse.quote(name, safe=""), body=b"")
        conn.getresponse().read()
    finally:
        conn.close()


def _direct_rpc(url: str, method: str, params: list[Any]) -> Any:
    """An uncounted JSON-RPC call straight to the devnet (for the harness's own checks)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as answer:
        return json.loads(answer.read())["result"]


def _configure(side: str, cfg: dict[str, Any]) -> None:
    from ogpu.chain import ChainConfig, ChainId

    contracts = {k: v for k, v in cfg["contracts"].items() if k != "MANAGER"}
    if side == "ours":
        ChainConfig.configure(
            ChainId.OGPU_DEVNET,
            rpc_url=cfg["proxy_rpc"],
            contracts=cfg["contracts"],
            ipfs_publish_url=cfg["proxy_publish"],
            ipfs_gateway_url=cfg["proxy_gateway"],
        )
        ChainConfig.set_chain(ChainId.OGPU_DEVNET)
        return
    # The published SDK knows mainnet and testnet only: borrow mainnet's slot. Transactions
    # are signed with the chain id web3 reads from the node (31071), so they are valid here.
    import ogpu.ipfs.publish as publish

    ChainConfig.CHAIN_CONTRACTS[ChainId.OGPU_MAINNET] = contracts  # type: ignore[attr-defined]
    ChainConfig.set_chain(ChainId.OGPU_MAINNET)
    ChainConfig.set_rpc(cfg["proxy_rpc"], chain=ChainId.OGPU_MAINNET)
    publish._IPFS_PUBLISH_URL = cfg["proxy_publish"]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- workloads
# Each returns a callable doing one run and returning the number of items it produced.


def _snapshot(side: str, cfg: dict[str, Any]) -> Callable[[], int]:
    from ogpu.protocol import Task

    task = cfg["task"]

    def run() -> int:
        Task(task).snapshot()
        return 1

    return run


def _source_dashboard(side: str, cfg: dict[str, Any]) -> Callable[[], int]:
    from ogpu.protocol import Source

    source = cfg["dashboard_source"]
    if side == "ours":
        return lambda: len(Source(source).get_task_snapshots())
    # the published SDK's recipe: list the tasks, then one snapshot per task
    return lambda: len([t.snapshot() for t in Source(source).get_tasks()])


def _responses(side: str, cfg: dict[str, Any]) -> Callable[[], int]:
    from ogpu.protocol import Task

    task = cfg["responses_task"]
    if side == "ours":
        return lambda: len([(s.status, s.data) for s in Task(task).get_response_snapshots()])
    return lambda: len([(r.get_status(), r.get_data()) for r in Task(task).get_responses()])


def _provider_dashboard(side: str, cfg: dict[str, Any]) -> Callable[[], int]:
    from ogpu.protocol import Provider

    providers = cfg["providers"]
    if side == "ours":
        from ogpu.protocol import snapshot_all

        return lambda: len(snapshot_all([Provider(a) for a in providers]))
    return lambda: len([Provider(a).snapshot() for a in providers])


def _payloads(side: str, cfg: dict[str, Any]) -> Callable[[], int]:
    from ogpu.protocol import Response

    responses = cfg["payload_responses"]
    if side == "ours":
        from ogpu.ipfs import fetch_many
        from ogpu.protocol import snapshot_all

        def run() -> int:
            snaps = snapshot_all([Response(a) for a in responses])
            payloads = fetch_many(
                [s.data for s in snaps],
                max_workers=16,
                as_json=True,
                gateway=cfg["proxy_gateway"],
                cache=False,  # every run pays its GETs, as the published SDK's do
            )
            failed = [p for p in payloads if isinstance(p, Exception)]
            if failed:
                raise RuntimeError(f"{len(failed)} payloads failed: {failed[0]}")
            return len(payloads)

        return run
    return lambda: len([Response(a).fetch_data() for a in responses])


def _writes(threads: int) -> Callable[[str, dict[str, Any]], Callable[[], int]]:
    def make(side: str, cfg: dict[str, Any]) -> Callable[[], int]:
        from ogpu.client import (
            DeliveryMethod,
            ImageEnvironments,
            SourceInfo,
            TaskInfo,
            TaskInput,
            publish_source,
            publish_task,
        )

        key = cfg["writer_key"]
        tasks = cfg["write_tasks"]

        def run() -> int:
            source = publish_source(
                SourceInfo(
                    name="bench",
                    description="benchmark source",
                    logoUrl="",
                    imageEnvs=ImageEnvironments(cpu="https://example.org/compose.yml"),
                    minPayment=10**12,
                    minAvailableLockup=0,
                    maxExpiryDuration=86400,
                    deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
                ),
                private_key=key,
            )
            block = _direct_rpc(cfg["direct_rpc"], "eth_getBlockByNumber", ["latest", False])
            expiry = int(block["timestamp"], 16) + 3600

            def one(i: int) -> Any:
                return publish_task(
                    TaskInfo(
                        source=source.address,
                        config=TaskInput(function_name="predict", data={"i": i}),
                        expiryTime=expiry,
                        payment=10**12,
                    ),
                    private_key=key,
                )

            if threads == 1:
                done = [one(i) for i in range(tasks)]
            else:
                with ThreadPoolExecutor(threads) as pool:
                    done = list(pool.map(one, range(tasks)))
            return 1 + len(done)

        return run

    return make


WORKLOADS: dict[str, Callable[[str, dict[str, Any]], Callable[[], int]]] = {
    "snapshot": _snapshot,
    "source_dashboard": _source_dashboard,
    "responses": _responses,
    "provider_dashboard": _provider_dashboard,
    "payloads": _payloads,
    "writes_sequential": _writes(1),
    "writes_4_threads": _writes(4),
}


def main() -> int:
    side, config_path = sys.argv[1], sys.argv[2]
    cfg = json.loads(Path(config_path).read_text())
    workload, runs = cfg["workload"], int(cfg["runs"])
    _configure(side, cfg)
    run = WORKLOADS[workload](side, cfg)
    writer = cfg.get("writer_address")
    out: dict[str, list[Any]] = {"seconds": [], "items": [], "nonces": []}
    if cfg.get("warmup") == "probe":  # heavy workloads: warm imports and the connection only
        set_phase(cfg["proxy_base"], f"{side}/{workload}/warmup")
        _snapshot(side, cfg)()
    warmups: list[Any] = [] if cfg.get("warmup") == "probe" else ["warmup"]
    for i in [*warmups, *range(runs)]:
        before = int(_direct_rpc(cfg["direct_rpc"], "eth_getTransactionCount", [writer, "pending"]), 16) if writer else 0  # fmt: skip
        set_phase(cfg["proxy_base"], f"{side}/{workload}/{i}")
        t0 = time.perf_counter()
        try:
            items = run()
        except Exception as exc:  # reported as this side's result (e.g. a refused nonce)
            set_phase(cfg["proxy_base"], "idle")
            out["error"] = [f"run {i}: {type(exc).__name__}: {str(exc)[:300]}"]
            break
        elapsed = time.perf_counter() - t0
        set_phase(cfg["proxy_base"], "idle")
        after = int(_direct_rpc(cfg["direct_rpc"], "eth_getTransactionCount", [writer, "pending"]), 16) if writer else 0  # fmt: skip
        if i != "warmup":
            out["seconds"].append(elapsed)
            out["items"].append(items)
            out["nonces"].append(after - before)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
