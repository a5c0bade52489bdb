"""ogpu.service benchmark: a trivial handler's throughput, ours against the published 0.2.3,
and the per-task latency the HTTP path adds to the devnet flow over an in-process handler.

- throughput: the same trivial source (``echo(data: In) -> Out``) served by ours (this
  workspace) and by the published ``ogpu[service]==0.2.3`` (its own venv under ``.bench/``),
  each in a subprocess on a free port, with a callback sink; ``CLIENTS`` keep-alive client
  threads POST ``/run/echo/{task}`` for ``SECONDS`` seconds. Reported: accepted requests per
  second (202s), and completed tasks per second (callbacks received at the sink). Ours runs
  with ``OGPU_SERVICE_MAX_CONCURRENCY=64`` so its limit does not turn load into 503s.
  The published ``start()`` binds 0.0.0.0:5555 unconditionally; its subprocess sets the
  module's host, port and callback constants before calling it.
- latency: the example source (packages/ogpu-service/examples/sentiment) answering tasks on a
  devnet, ``TASKS`` tasks one after the other, publish_task -> wait_for_response, once with its
  handler in process (``start_providers``) and once over HTTP (``start_service_providers``,
  the source in a subprocess); plus the runtime-side cost alone: ``run_task_handler`` over
  ``CALLS`` calls, in-process function against POST + callback.

Entry point: :func:`run` returns the numbers as a dict; ``python bench/bench_service.py``
prints them. Nothing is asserted.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "packages" / "ogpu-service" / "examples" / "sentiment" / "main.py"
CLIENTS = int(os.environ.get("OGPU_BENCH_SERVICE_CLIENTS", "8"))
SECONDS = float(os.environ.get("OGPU_BENCH_SERVICE_SECONDS", "5"))
TASKS = int(os.environ.get("OGPU_BENCH_SERVICE_TASKS", "10"))
CALLS = int(os.environ.get("OGPU_BENCH_SERVICE_CALLS", "200"))

SOURCE = textwrap.dedent(
    """
    import logging, os, sys
    from pydantic import BaseModel
    from ogpu.service import expose, start, logger

    class In(BaseModel):
        text: str

    class Out(BaseModel):
        text: str

    @expose()
    def echo(data: In) -> Out:
        return Out(text=data.text)

    logger.setLevel(logging.WARNING)   # both sides: no per-task log line on the hot path
    if os.environ.get("BENCH_PUBLISHED"):
        import ogpu.service.server as server
        server.SERVICE_HOST = "127.0.0.1"
        server.SERVICE_PORT = int(os.environ["OGPU_SERVICE_PORT"])
        server.CALLBACK_URL = os.environ["CALLBACK_URL"]
    start()
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Sink:
    """A callback receiver that only counts."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _serve(python: str, script: Path, port: int, callback: str, published: bool) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))}
    env.update(
        OGPU_SERVICE_HOST="127.0.0.1",
        OGPU_SERVICE_PORT=str(port),
        CALLBACK_URL=callback,
        OGPU_SERVICE_MAX_CONCURRENCY="64",
    )
    if published:
        env["BENCH_PUBLISHED"] = "1"
    proc = subprocess.Popen(
        [python, str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"{python} {script} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("POST", "/run/echo/0xwarm", body=b'{"text":"w"}',
                         headers={"Content-Type": "application/json"})  # fmt: skip
            if conn.getresponse().status == 202:
                return proc
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("service did not come up")
        time.sleep(0.05)


def _load(port: int) -> tuple[int, int]:
    accepted = other = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + SECONDS

    def client(i: int) -> None:
        nonlocal accepted, other
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        n = ok = bad = 0
        body = json.dumps({"text": "hello"}).encode()
        while time.monotonic() < stop_at:
            conn.request("POST", f"/run/echo/0x{i:02x}{n:08x}", body=body,
                         headers={"Content-Type": "application/json"})  # fmt: skip
            response = conn.getresponse()
            response.read()
            n += 1
            if response.status == 202:
                ok += 1
            else:
                bad += 1
        with lock:
            accepted += ok
            other += bad

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return accepted, other


def throughput(python: str, published: bool, workdir: Path) -> dict[str, float]:
    script = workdir / "echo_source.py"
    script.write_text(SOURCE)
    sink = _Sink()
    port = _free_port()
    proc = _serve(python, script, port, sink.url, published)
    try:
        time.sleep(0.3)
        start_count = sink.count
        t0 = time.perf_counter()
        accepted, refused = _load(port)
        elapsed = time.perf_counter() - t0
        # completed: callbacks that arrive within 10 s after the load stopped
        deadline = time.monotonic() + 10
        while sink.count - start_count < accepted and time.monotonic() < deadline:
            time.sleep(0.05)
        done_elapsed = time.perf_counter() - t0
        completed = sink.count - start_count
    finally:
        proc.terminate()
        proc.wait(30)
        sink.close()
    return {
        "accepted_per_s": accepted / elapsed,
        "completed_per_s": completed / done_elapsed,
        "accepted": accepted,
        "refused": refused,
        "completed": completed,
    }


def _example_handler() -> Any:
    import ogpu.service._registry as reg

    spec = importlib.util.spec_from_file_location("_bench_example_source", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved, reg.default_registry = reg.default_registry, reg.Registry()
    try:
        spec.loader.exec_module(module)
    finally:
        reg.default_registry = saved
    module.load_model()

    def analyze(input_data: Any) -> Any:
        return module.analyze(module.Review(**input_data)).model_dump(mode="json")

    return analyze


def latency() -> dict[str, float]:
    from ogpu.client import (
        DeliveryMethod,
        ImageEnvironments,
        SourceInfo,
        TaskInfo,
        TaskInput,
        publish_source,  # fmt: skip
        publish_task,
        wait_for_response,
    )
    from ogpu.protocol import vault
    from ogpu_devnet import Devnet
    from ogpu_devnet.provider import (
        CallbackServer,
        ServiceProcess,
        run_task_handler,
        start_providers,  # fmt: skip
        start_service_providers,
    )
    from ogpu_devnet.provider._http_service import ServiceHandler

    analyze = _example_handler()
    results: dict[str, float] = {}
    config = {"function_name": "analyze", "data": {"text": "a good and fast day"}}

    # the runtime-side cost alone: in-process call vs POST + callback
    t0 = time.perf_counter()
    for i in range(CALLS):
        run_task_handler(analyze, f"0x{i:040x}", config, 10)
    results["handler_in_process_ms"] = (time.perf_counter() - t0) / CALLS * 1000
    with CallbackServer() as callbacks:
        service = ServiceProcess(
            EXAMPLE, callback_url=callbacks.url, provider_address="0x" + "00" * 20,
            env={"OGPU_SERVICE_MAX_CONCURRENCY": "4"}, output=os.devnull,
        ).start()  # fmt: skip
        try:
            handler = ServiceHandler(service.url, callbacks)
            run_task_handler(handler, "0xwarm", config, 10)
            t0 = time.perf_counter()
            for i in range(CALLS):
                run_task_handler(handler, f"0x{i:040x}", config, 10)
            results["handler_http_ms"] = (time.perf_counter() - t0) / CALLS * 1000
        finally:
            service.stop()

    with Devnet() as net:
        from ogpu.chain import ChainConfig, ChainId

        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url,
                              contracts=dict(net.contracts),
                              ipfs_publish_url=net.ipfs.publish_url,
                              ipfs_gateway_url=net.ipfs.gateway_url)  # fmt: skip
        ChainConfig.set_chain(ChainId.OGPU_DEVNET)
        key = net.accounts[1].private_key
        vault.deposit(net.accounts[1].address, 10**18, signer=key)
        w3 = net.web3()

        def new_source(label: str) -> Any:
            return publish_source(SourceInfo(
                name=label, description="bench", logoUrl="",
                imageEnvs=ImageEnvironments(cpu="https://example.org/compose.yml"),
                minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
                deliveryMethod=DeliveryMethod.FIRST_RESPONSE), key)  # fmt: skip

        # Both providers run at once, each serving its own source; the tasks alternate, so
        # both paths see the same machine load (the devnet shares this process).
        sources = {"in_process": new_source("in_process"), "http": new_source("http")}
        groups = [
            start_providers(net, analyze, sources=[sources["in_process"]], poll_interval=0.02),
            start_service_providers(net, source_path=EXAMPLE, sources=[sources["http"]],
                                    poll_interval=0.02, service_output=os.devnull),
        ]  # fmt: skip
        samples: dict[str, list[float]] = {label: [] for label in sources}
        try:
            for i in range(TASKS):
                for label, source in sources.items():
                    now = w3.eth.get_block("latest")["timestamp"]
                    info = TaskInfo(source=source.address,
                                    config=TaskInput(function_name="analyze",
                                                     data={"text": f"good fast day {i}"}),
                                    expiryTime=now + 600, payment=10**15)  # fmt: skip
                    t0 = time.perf_counter()
                    task = publish_task(info, key)
                    wait_for_response(task, timeout=60, poll_interval=0.02)
                    samples[label].append(time.perf_counter() - t0)
        finally:
            for group in groups:
                group.stop()
        for label, values in samples.items():
            results[f"flow_{label}_median_ms"] = statistics.median(values) * 1000
    results["flow_http_added_ms"] = (
        results["flow_http_median_ms"] - results["flow_in_process_median_ms"]
    )
    return results


def run() -> dict[str, Any]:
    """Run both benchmarks; return ``{"throughput": {"ours":..., "published":...}, "latency":...}``."""
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _published import BENCH_DIR, ensure_venv

    published_python = ensure_venv(
        BENCH_DIR / "published-ogpu-0.2.3-service", "ogpu[service]==0.2.3"
    )
    with tempfile.TemporaryDirectory() as tmp:
        ours = throughput(sys.executable, False, Path(tmp))
        theirs = throughput(str(published_python), True, Path(tmp))
    return {
        "throughput": {"ours": ours, "published": theirs, "clients": CLIENTS, "seconds": SECONDS},
        "latency": latency(),
    }


def main() -> None:
    results = run()
    t = results["throughput"]
    print(f"trivial handler, {t['clients']} keep-alive clients for {t['seconds']:.0f} s "
          "(subprocess servers, callbacks to a local sink)")  # fmt: skip
    for name in ("ours", "published"):
        r = t[name]
        print(f"  {name:<10} accepted {r['accepted_per_s']:7.1f} req/s   completed "
              f"{r['completed_per_s']:7.1f} tasks/s   ({r['accepted']} accepted, "
              f"{r['refused']} refused, {r['completed']} called back)")  # fmt: skip
    ratio = t["ours"]["accepted_per_s"] / t["published"]["accepted_per_s"]
    print(f"  ours / published (accepted): {ratio:.2f}x")
    lat = results["latency"]
    print(f"runtime side, one task: in-process handler {lat['handler_in_process_ms']:.2f} ms, "
          f"over HTTP (POST + callback) {lat['handler_http_ms']:.2f} ms "
          f"(mean of {CALLS})")  # fmt: skip
    print(f"devnet flow publish_task -> confirmed response, median of {TASKS}: in-process "
          f"{lat['flow_in_process_median_ms']:.0f} ms, HTTP {lat['flow_http_median_ms']:.0f} ms, "
          f"added {lat['flow_http_added_ms']:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
