"""The ``ogpu`` command end to end against a devnet served in a subprocess.

One ``ogpu-devnet serve --provider ogpu_devnet.demo:analyze_text`` per module (free ports, a
manifest, chain id 31338 so that the command registers it as a chain of its own). Most
commands run in-process through ``main(argv)`` (fast); each command group also runs once as a
real ``ogpu`` subprocess. The provider serves CPU sources; the "idle" source offers only an
NVIDIA image, so its tasks stay NEW (for cancel and for --wait timing out).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ogpu.chain import ChainConfig, ChainId, ChainLike
from ogpu.cli import main
from ogpu.client import DeliveryMethod, ImageEnvironments, SourceInfo, Task, publish_source
from ogpu.protocol import vault
from ogpu.types import TaskStatus

# Starts an external node (`ogpu-devnet serve` in a subprocess) and runs `ogpu` subprocesses.
pytestmark = pytest.mark.slow

CHAIN_ID = 31338
OGPU = shutil.which("ogpu", path=os.path.dirname(sys.executable)) or "ogpu"


@dataclass
class Served:
    manifest: Path
    proc: subprocess.Popen[str]
    chain: ChainLike
    client_key: str
    client: str
    other_key: str
    provider_source: str  # FIRST_RESPONSE, served by the provider
    manual_source: str  # MANUAL_CONFIRMATION, served by the provider
    idle_source: str  # NVIDIA only: nobody serves it


@pytest.fixture(autouse=True)
def _keep_chain_config() -> Iterator[None]:
    """In-process runs select a chain and may point a built-in one at another RPC URL
    (``--rpc``): put back what other tests in this process use."""
    before = ChainConfig.get_current_chain()
    rpcs = {chain: ChainConfig.get_rpc(chain) for chain in ChainId}
    yield
    for chain, url in rpcs.items():
        ChainConfig.configure(chain, rpc_url=url)
    ChainConfig.set_chain(before)


def _info(name: str, delivery: DeliveryMethod, env: ImageEnvironments) -> SourceInfo:
    return SourceInfo(
        name=name, description="cli test", logoUrl="", imageEnvs=env,
        minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
        deliveryMethod=delivery,
    )  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    manifest = tmp_path_factory.mktemp("cli") / "manifest.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
         "--chain-id", str(CHAIN_ID), "--manifest", str(manifest),
         "--provider", "ogpu_devnet.demo:analyze_text"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    listening = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Listening on" in line:
                listening.set()

    threading.Thread(target=read, daemon=True).start()
    before = ChainConfig.get_current_chain()
    try:
        deadline = time.monotonic() + 90
        while not listening.wait(0.1):
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "ogpu-devnet serve did not start"
        m = json.loads(manifest.read_text())
        chain = ChainConfig.register_chain(
            CHAIN_ID, "cli-devnet", m["rpc_url"], m["contracts"],
            m["ipfs_publish_url"], m["ipfs_gateway_url"],
        )  # fmt: skip
        ChainConfig.set_chain(chain)
        key = m["accounts"][1]["private_key"]
        cpu = ImageEnvironments(cpu="https://example.org/compose.yml")
        first = publish_source(_info("first", DeliveryMethod.FIRST_RESPONSE, cpu), key)
        manual = publish_source(_info("manual", DeliveryMethod.MANUAL_CONFIRMATION, cpu), key)
        nvidia = ImageEnvironments(nvidia="https://example.org/compose.yml")
        idle = publish_source(_info("idle", DeliveryMethod.FIRST_RESPONSE, nvidia), key)
        vault.deposit(m["accounts"][1]["address"], 10**18, signer=key)
        yield Served(
            manifest=manifest, proc=proc, chain=chain, client_key=key,
            client=m["accounts"][1]["address"], other_key=m["accounts"][2]["private_key"],
            provider_source=first.address, manual_source=manual.address,
            idle_source=idle.address,
        )  # fmt: skip
    finally:
        ChainConfig.set_chain(before)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def ogpu(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    """``ogpu(*argv) -> (exit code, stdout, stderr)``, in-process, on the served devnet."""
    monkeypatch.setenv("CLIENT_KEY", served.client_key)
    monkeypatch.setenv("OTHER_KEY", served.other_key)
    monkeypatch.delenv("CLIENT_PRIVATE_KEY", raising=False)

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = main(["--manifest", str(served.manifest), *argv])
        except SystemExit as exc:  # argparse: usage errors
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _subprocess(served: Served, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.endswith("_PRIVATE_KEY")}
    environ.update(env)
    return subprocess.run(
        [OGPU, "--manifest", str(served.manifest), *argv],
        capture_output=True, text=True, timeout=120, env=environ, check=False,
    )  # fmt: skip


def _publish(ogpu: Any, source: str, *extra: str) -> str:
    code, out, err = ogpu(
        "task", "publish", "--source", source, "--function", "analyze",
        "--data", '{"text": "a good day"}', "--payment", "0.01ogpu", "--expires-in", "10m",
        "--key-env", "CLIENT_KEY", "--json", *extra,
    )  # fmt: skip
    assert code == 0, err
    return str(json.loads(out)["task"])


# ------------------------------------------------------------------------------- subprocesses


def test_publish_wait_in_a_subprocess_prints_progress_and_the_payload(served: Served) -> None:
    result = _subprocess(
        served, "task", "publish", "--source", served.provider_source, "--function", "analyze",
        "--data", '{"text": "a good and happy day"}', "--payment", "10000000000000000",
        "--expires-in", "5m", "--wait", "--timeout", "60s", "--poll-interval", "0.1s",
        CLIENT_PRIVATE_KEY=served.client_key,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["sentiment"]["label"] == "positive" and payload["words"] == 5
    stages = [line.split(": ")[1].split(" (")[0] for line in result.stderr.splitlines()]
    assert stages[0] == "published" and stages[-1] == "confirmed", result.stderr
    assert "\r" not in result.stderr  # not a terminal: plain lines, no live line
    assert served.client_key[2:] not in result.stdout + result.stderr


def test_show_commands_print_json(served: Served, ogpu: Any) -> None:
    task = _publish(ogpu, served.provider_source, "--wait", "--timeout", "60s")
    result = _subprocess(served, "source", "show", served.provider_source, "--json")
    source = json.loads(result.stdout)
    assert source["address"] == served.provider_source and source["status"] == "ACTIVE"
    assert source["client"] == served.client and source["task_count"] >= 1
    code, out, _ = ogpu("--json", "task", "show", task)
    shown = json.loads(out)
    assert shown["status"] == "FINALIZED" and shown["source"] == served.provider_source
    code, out, _ = ogpu("task", "responses", task, "--json")
    response = json.loads(out)[0]
    assert response["confirmed"] is True and response["task"] == task
    code, out, _ = ogpu("provider", "show", shown["winning_provider"], "--json")
    provider = json.loads(out)
    assert provider["is_provider"] is True and provider["master"].startswith("0x")
    code, out, _ = ogpu("task", "responses", task)
    assert (
        code == 0
        and out.startswith("RESPONSE")
        and response["address"] in out
        and "CONFIRMED" in out
    )


def test_response_fetch_verify_to_a_file_in_a_subprocess(
    served: Served, ogpu: Any, tmp_path: Path
) -> None:
    task = _publish(ogpu, served.provider_source, "--wait", "--timeout", "60s")
    response = Task(task, served.chain).get_confirmed_response()
    assert response is not None
    target = tmp_path / "payload.json"
    result = _subprocess(
        served, "response", "fetch", response.address, "--verify", "-o", str(target)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(target.read_bytes()) == response.fetch_data()
    code, out, _ = ogpu("response", "show", response.address, "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["status"] == "CONFIRMED" and shown["data"] == response.get_data()


def test_vault_deposit_in_a_subprocess(served: Served, ogpu: Any) -> None:
    before = json.loads(ogpu("vault", "balance", served.client, "--json")[1])
    result = _subprocess(
        served, "vault", "deposit", "0.5ogpu", "--key-env", "MY_KEY", "--json",
        MY_KEY=served.client_key,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tx_hash"].startswith("0x")
    after = json.loads(ogpu("vault", "balance", served.client, "--json")[1])
    assert after["balance"] - before["balance"] == 5 * 10**17
    assert served.client_key[2:] not in result.stdout + result.stderr


def test_watch_in_a_subprocess_streams_json_lines(served: Served, ogpu: Any) -> None:
    task = _publish(ogpu, served.idle_source)
    result = _subprocess(
        served, "watch", "task-published", "--source", served.idle_source, "--from-block", "0",
        "--count", "1", "--poll-interval", "0.1s", "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout.splitlines()[0])
    assert event["event"] == "TaskPublishedEvent" and event["source"] == served.idle_source
    code, out, _ = ogpu("source", "tasks", served.idle_source, "--limit", "100", "--json")
    assert code == 0 and event["task"] in [t["address"] for t in json.loads(out)] and task


def test_provider_error_exit_in_a_subprocess_is_one_line(served: Served) -> None:
    result = _subprocess(served, "provider", "show", served.client)
    assert result.returncode == 5 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "ProviderNotFoundError" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------- in-process


def test_tables_are_readable(served: Served, ogpu: Any) -> None:
    code, out, _ = ogpu("source", "show", served.manual_source)
    assert code == 0
    assert out.splitlines()[0] == f"Source {served.manual_source}"
    assert "params.minPayment" in out and "(0.001 OGPU)" in out
    code, out, _ = ogpu("vault", "balance", served.client)
    assert code == 0 and "OGPU)" in out


def test_source_tasks_filters_by_status_newest_first(served: Served, ogpu: Any) -> None:
    first = _publish(ogpu, served.idle_source)
    second = _publish(ogpu, served.idle_source)
    code, out, _ = ogpu(
        "source", "tasks", served.idle_source, "--status", "new", "--limit", "2", "--json"
    )
    assert code == 0
    listed = [t["address"] for t in json.loads(out)]
    assert listed == [second, first]
    code, out, _ = ogpu("source", "tasks", served.idle_source, "--status", "FINALIZED", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = ogpu("source", "tasks", served.idle_source, "--limit", "1")
    assert code == 0 and second in out and first not in out and out.startswith("TASK")


def test_manual_source_wait_stops_at_the_response_then_confirm(served: Served, ogpu: Any) -> None:
    code, out, err = ogpu(
        "task", "publish", "--source", served.manual_source, "--function", "analyze",
        "--data", '{"text": "sad"}', "--payment", "1000000000000000", "--expires-in", "10m",
        "--wait", "--timeout", "60s", "--poll-interval", "0.1s", "--key-env", "CLIENT_KEY", "--json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    assert result["payload"]["sentiment"]["label"] == "negative"
    assert "ogpu response confirm" in err
    assert Task(result["task"]).get_status() == TaskStatus.RESPONDED
    code, out, err = ogpu("response", "confirm", result["response"], "--key-env", "OTHER_KEY")
    assert code == 5 and "NotTaskOwnerError" in err  # only the task's client confirms
    code, out, err = ogpu("response", "confirm", result["response"], "--key-env", "CLIENT_KEY")
    assert code == 0, err
    assert Task(result["task"]).get_status() == TaskStatus.FINALIZED
    code, out, err = ogpu("response", "fetch", result["response"], "--json")
    assert code == 0 and json.loads(out)["payload"] == result["payload"]
    code, out, err = ogpu("response", "fetch", result["response"])  # the stored bytes
    assert code == 0 and json.loads(out) == result["payload"]


def test_cancel_a_new_task(served: Served, ogpu: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    task = _publish(ogpu, served.idle_source)
    code, _, err = ogpu("task", "cancel", task)
    assert code == 3 and "CLIENT_PRIVATE_KEY" in err  # no key anywhere
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", served.client_key)
    code, out, err = ogpu("task", "cancel", task)  # the role's variable
    assert code == 0, err
    assert "canceled" in out and Task(task).get_status() == TaskStatus.CANCELED
    code, _, err = ogpu("task", "cancel", task)
    assert code == 5, err


def test_wait_timeout_exits_6(served: Served, ogpu: Any) -> None:
    code, out, err = ogpu(
        "task", "publish", "--source", served.idle_source, "--function", "analyze",
        "--data", "{}", "--payment", "0.001ogpu", "--expires-in", "10m", "--wait",
        "--timeout", "0.3s", "--poll-interval", "0.1s", "--key-env", "CLIENT_KEY",
    )  # fmt: skip
    assert code == 6 and "WaitTimeoutError" in err and out == ""


def test_vault_writes_and_their_chain_errors(served: Served, ogpu: Any) -> None:
    code, out, err = ogpu("vault", "withdraw", "1gwei", "--key-env", "CLIENT_KEY", "--json")
    assert code == 0, err
    assert json.loads(out)["amount"] == 10**9
    code, out, err = ogpu("vault", "withdraw", "1000000ogpu", "--key-env", "CLIENT_KEY")
    assert code == 5 and "InsufficientBalanceError" in err and "ogpu vault deposit" in err
    code, _, err = ogpu("vault", "claim", "--key-env", "CLIENT_KEY")
    assert code == 5, err
    code, _, err = ogpu("vault", "deposit", "1")  # vault writes have no fallback key
    assert code == 2 and "--key-env" in err


def test_watch_in_process_prints_lines(served: Served, ogpu: Any) -> None:
    task = _publish(ogpu, served.idle_source)
    assert ogpu("task", "cancel", task, "--key-env", "CLIENT_KEY")[0] == 0
    code, out, err = ogpu(
        "watch", "task-status", "--task", task, "--from-block", "0", "--count", "1",
        "--poll-interval", "0.1s",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("block ") and "TaskStatusChangedEvent" in out
    assert f"task={task}" in out and "status=CANCELED" in out


# ------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "argv",
    [
        ("task", "show", "0x12"),
        ("task", "publish", "--source", "0x" + "11" * 20, "--function", "f", "--data", "{",
         "--payment", "1", "--expires-in", "1h"),
        ("task", "publish", "--source", "0x" + "11" * 20, "--function", "f", "--data", "{}",
         "--payment", "0.5wei", "--expires-in", "1h"),
        ("task", "publish", "--source", "0x" + "11" * 20, "--function", "f", "--data", "{}",
         "--payment", "1", "--expires-in", "soon"),
        ("watch", "attempted"),
        ("source", "tasks", "0x" + "11" * 20, "--status", "DONE"),
        ("frobnicate",),
    ],
)  # fmt: skip
def test_usage_errors_exit_2_before_any_io(ogpu: Any, argv: tuple[str, ...]) -> None:
    code, out, err = ogpu(*argv)
    assert code == 2 and out == "" and "error:" in err


def test_configuration_errors_exit_3(
    served: Served, ogpu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = ogpu("vault", "deposit", "1", "--key-env", "NOT_SET_ANYWHERE")
    assert code == 3 and "NOT_SET_ANYWHERE" in err
    secret = "0x" + "zz" * 32
    monkeypatch.setenv("BAD_KEY", secret)
    code, out, err = ogpu("vault", "deposit", "1", "--key-env", "BAD_KEY")
    assert code == 3 and "InvalidSignerError" in err and secret not in out + err
    assert (
        main(["--manifest", str(tmp_path / "missing.json"), "task", "show", "0x" + "11" * 20]) == 3
    )
    code, _, err = ogpu("--chain", "mainnet", "task", "show", "0x" + "11" * 20)
    assert code == 3 and "--manifest" in err


def test_network_errors_exit_4(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = main(
        ["--chain", "devnet", "--rpc", f"http://127.0.0.1:{port}", "task", "show", "0x" + "11" * 20]
    )
    err = capsys.readouterr().err
    assert code == 4 and err.startswith("ogpu: error: RpcTransportError:") and "--rpc" in err


def test_chain_errors_exit_5(served: Served, ogpu: Any) -> None:
    code, out, err = ogpu("response", "show", served.client)
    assert code == 5 and "ResponseNotFoundError" in err and out == ""
    code, _, err = ogpu("provider", "show", served.client)
    assert code == 5 and "ProviderNotFoundError" in err
