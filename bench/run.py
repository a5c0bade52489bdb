"""``make bench``: this SDK and devnet side by side with the published ogpu 0.2.3 and Hardhat.

Writes ``bench/results.json`` (machine-readable: per workload ours, theirs, the ratio
ours / theirs, request counts, the delay, the machine) and regenerates ``bench/RESULTS.md``.
Never part of ``make test``; nothing here asserts a timing.

Workloads (issue 12):

1. cold import and installed footprint (``_imports.py``);
2. reads: one ``Task.snapshot()``, a source dashboard, a task's responses, a provider dashboard;
3. payloads: ``fetch_data()`` of 100 responses;
4. writes: ``publish_source`` + 20 ``publish_task`` from one key, sequential and 4 threads;
5. the devnet against Hardhat's node (``_devnet_bench.py``);
6. ``ogpu-service`` against the published ``ogpu.service`` (``bench_service.run()``, when
   that module exists).

Workloads 2-4 run each SDK in its own subprocess (``_driver.py``) against one devnet, every
HTTP request going through a counting proxy that adds ``--delay-ms`` (default 30) per
request. Options: ``--runs N`` (default 5), ``--only 1,2,...``, ``--no-write`` (print only).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _published import ROOT, published_python  # noqa: E402

WRITE_TASKS = 20
# The published SDK's recipe for these costs thousands of delayed requests per run (the
# source dashboard: ~25 per task x 250 tasks, over 3 minutes at 30 ms): fewer runs, and a
# one-snapshot warm-up instead of a whole warm-up run, keep `make bench` within minutes.
THEIRS_MAX_RUNS = {"source_dashboard": 1, "provider_dashboard": 1, "payloads": 2}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


# --------------------------------------------------------------------------- workloads 2-4

SDK_WORKLOADS: list[tuple[str, str, str, dict[str, str], dict[str, Any]]] = [
    # (workload group, key, name, calls per side, target)
    ("2", "snapshot", "one Task.snapshot()",
     {"ours": "Task(a).snapshot()", "theirs": "Task(a).snapshot()"},
     {"seconds": 0.2, "http_requests_max": 1}),
    ("2", "source_dashboard", "source dashboard: 250 tasks, each with its snapshot",
     {"ours": "Source(s).get_task_snapshots()",
      "theirs": "[t.snapshot() for t in Source(s).get_tasks()]"},
     {"seconds": 0.1, "http_requests": 0.05}),
    ("2", "responses", "a task's 20 responses with status and data URL",
     {"ours": "[(s.status, s.data) for s in Task(t).get_response_snapshots()]",
      "theirs": "[(r.get_status(), r.get_data()) for r in Task(t).get_responses()]"},
     {"seconds": 0.1, "http_requests": 0.05}),
    ("2", "provider_dashboard", "provider dashboard: Provider.snapshot() for 50 providers",
     {"ours": "snapshot_all([Provider(a) for a in providers])",
      "theirs": "[Provider(a).snapshot() for a in providers]"},
     {"seconds": 0.1, "http_requests": 0.05}),
    ("3", "payloads", "fetch_data() for 100 responses (mock gateway, same delay)",
     {"ours": "fetch_many([s.data for s in snapshot_all(responses)], as_json=True, "
              "max_workers=16, cache=False)",
      "theirs": "[Response(a).fetch_data() for a in responses]"},
     {"seconds": 0.2}),
    ("4", "writes_sequential", f"publish_source + {WRITE_TASKS} publish_task, one key, sequential",
     {"ours": "publish_source(...); publish_task(...) x20",
      "theirs": "publish_source(...); publish_task(...) x20"},
     {"seconds": 1.0, "nonces_max": WRITE_TASKS + 1}),
    ("4", "writes_4_threads", f"publish_source + {WRITE_TASKS} publish_task, one key, 4 threads",
     {"ours": "publish_source(...); ThreadPoolExecutor(4).map(publish_task, ...)",
      "theirs": "publish_source(...); ThreadPoolExecutor(4).map(publish_task, ...)"},
     {"seconds": 1.0, "nonces_max": WRITE_TASKS + 1}),
]  # fmt: skip


def _drive(side: str, python: Path, cfg: dict[str, Any]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(cfg, fh)
        path = fh.name
    try:
        out = subprocess.run(
            [str(python), str(HERE / "_driver.py"), side, path],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=HERE,
        )
    finally:
        os.unlink(path)
    if out.returncode != 0:
        raise RuntimeError(f"{side} {cfg['workload']} failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _target_text(target: dict[str, Any]) -> str:
    parts = []
    if "seconds" in target:
        parts.append(
            "no slower" if target["seconds"] == 1.0 else f"time ratio <= {target['seconds']}"
        )
    if "http_requests" in target:
        parts.append(f"request ratio <= {target['http_requests']}")
    if "http_requests_max" in target:
        parts.append(f"{target['http_requests_max']} request")
    if "nonces_max" in target:
        parts.append(f"nonces used <= intents ({target['nonces_max']})")
    return ", ".join(parts)


def sdk_workloads(runs: int, delay: float, only: set[str]) -> list[dict[str, Any]]:
    """Workloads 2-4 (those in ``only``): one devnet, one proxy, both SDKs in subprocesses."""
    import _scenario
    from _proxy import CountingProxy
    from _scenario import serve

    chosen = [w for w in SDK_WORKLOADS if w[0] in only or w[1] in only]
    if not chosen:
        return []
    theirs_py = published_python()
    net = serve()
    proxy = None
    try:
        manifest = net.manifest
        ipfs_base = manifest["ipfs_publish_url"].rsplit("/file/create", 1)[0]
        proxy = CountingProxy(manifest["rpc_url"], ipfs_base, delay)
        t0 = time.perf_counter()
        data = _scenario.build(manifest, proxy.gateway_url)
        print(f"  scenario built in {time.perf_counter() - t0:.1f} s", flush=True)
        rows = []
        for group, key, name, calls, target in chosen:
            row: dict[str, Any] = {"workload": group, "key": key, "name": name, "unit": "s"}
            for side, python in (("ours", Path(sys.executable)), ("theirs", theirs_py)):
                side_runs = runs if side == "ours" else min(runs, THEIRS_MAX_RUNS.get(key, runs))
                cfg = {
                    **data,
                    "workload": key,
                    "runs": side_runs,
                    "warmup": "probe" if key in THEIRS_MAX_RUNS and side == "theirs" else "full",
                    "proxy_base": proxy.base,
                    "proxy_rpc": proxy.rpc_url,
                    "proxy_publish": proxy.publish_url,
                    "proxy_gateway": proxy.gateway_url,
                    "direct_rpc": manifest["rpc_url"],
                    "write_tasks": WRITE_TASKS,
                }
                if group == "4":
                    cfg["writer_key"] = data["writers"][side]["key"]
                    cfg["writer_address"] = data["writers"][side]["address"]
                result = _drive(side, python, cfg)
                if not result["seconds"]:
                    row[side] = {"call": calls[side], "error": result["error"][0]}
                    print(f"  {key:<20} {side:<6} failed: {result['error'][0]}", flush=True)
                    continue
                done = len(result["seconds"])  # fewer than side_runs if a run failed
                per_run = [proxy.counts[f"{side}/{key}/{i}"].as_dict() for i in range(done)]
                median_counts = {
                    k: int(statistics.median(c[k] for c in per_run)) for k in per_run[0]
                }
                entry: dict[str, Any] = {
                    "call": calls[side],
                    "seconds": statistics.median(result["seconds"]),
                    "runs": result["seconds"],
                    "items": result["items"],
                    **median_counts,
                    "requests_per_run": [c["http_requests"] for c in per_run],
                }
                if result.get("error"):  # a later run failed: the medians are of the others
                    entry["failed_run"] = result["error"][0]
                    row["warning"] = f"{side}: {result['error'][0]}"
                if group == "4":
                    entry["nonces_used"] = result["nonces"]
                    entry["intents"] = WRITE_TASKS + 1
                row[side] = entry
                print(
                    f"  {key:<20} {side:<6} {entry['seconds'] * 1000:9.1f} ms  "
                    f"{entry['http_requests']:5d} requests  items {result['items'][0]}",
                    flush=True,
                )
            ours, theirs = row["ours"], row["theirs"]
            if "error" in ours or "error" in theirs:
                failed = "ours" if "error" in ours else "the published SDK"
                row["warning"] = f"{failed} failed: {(ours.get('error') or theirs['error'])}"
                row["target"] = _target_text(target)
                row["met"] = False if "error" in ours else None
                rows.append(row)
                continue
            row["ratio"] = {
                "seconds": ours["seconds"] / theirs["seconds"],
                "http_requests": ours["http_requests"] / max(1, theirs["http_requests"]),
            }
            met = True
            if "seconds" in target:
                met &= row["ratio"]["seconds"] <= target["seconds"]
            if "http_requests" in target:
                met &= row["ratio"]["http_requests"] <= target["http_requests"]
            if "http_requests_max" in target:
                met &= ours["http_requests"] <= target["http_requests_max"]
            if "nonces_max" in target:
                met &= max(ours["nonces_used"]) <= target["nonces_max"]
            if len(set(ours["items"] + theirs["items"])) != 1:
                row["warning"] = "the two SDKs returned different item counts"
                met = False
            row["target"] = _target_text(target)
            row["met"] = bool(met)
            rows.append(row)
        return rows
    finally:
        if proxy is not None:
            proxy.stop()
        net.stop()


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per side and workload (5)")
    parser.add_argument("--delay-ms", type=float, default=30.0, help="added per HTTP request (30)")
    parser.add_argument(
        "--only", default="1,2,3,4,5,6", help="workload groups (1-6) or keys (e.g. payloads) to run"
    )
    parser.add_argument("--no-write", action="store_true", help="do not write the result files")
    args = parser.parse_args()
    only = set(args.only.split(","))
    started = time.perf_counter()
    results: dict[str, Any] = {
        "generated_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": "make bench",
        "delay_ms": args.delay_ms,
        "runs": args.runs,
        "published_sdk": "ogpu 0.2.3 (PyPI), its own venv, run in subprocesses",
        "ratio": "ours / theirs (below 1: ours is faster or makes fewer requests)",
        "machine": machine(),
        "rows": [],
    }
    rows: list[dict[str, Any]] = results["rows"]
    if "1" in only:
        print("workload 1: cold import and footprint", flush=True)
        from _imports import run as run_imports

        rows += run_imports(max(args.runs, 5))
    if only & ({"2", "3", "4"} | {w[1] for w in SDK_WORKLOADS}):
        print(f"workloads 2-4: reads, payloads, writes ({args.delay_ms:.0f} ms per request)")
        rows += sdk_workloads(args.runs, args.delay_ms / 1000, only)
    if "5" in only:
        print("workload 5: the devnet against Hardhat's node", flush=True)
        from _devnet_bench import run as run_devnet

        results["devnet"] = run_devnet()
        rows += results["devnet"]["rows"]
    if "6" in only and (HERE / "bench_service.py").exists():
        print("workload 6: ogpu-service against the published ogpu.service", flush=True)
        service = importlib.import_module("bench_service")
        results["service"] = service.run()
    results["total_seconds"] = time.perf_counter() - started
    from _report import render

    text = render(results)
    print(text)
    if not args.no_write:
        (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
        (HERE / "RESULTS.md").write_text(text)
        print(f"wrote {HERE.relative_to(ROOT)}/results.json and RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
