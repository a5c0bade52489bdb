"""The example source in a subprocess, as a provider machine runs it: configured by
environment, init from a file, SIGTERM with a task in flight."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

SOURCE = Path(__file__).resolve().parents[1] / "examples" / "sentiment" / "main.py"
TASK = "0x" + "cd" * 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SourceProcess:
    def __init__(self, callback_url: str, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {
            **os.environ,
            "OGPU_SERVICE_HOST": "127.0.0.1",
            "OGPU_SERVICE_PORT": str(self.port),
            "CALLBACK_URL": callback_url,
            "SOURCE_ADDRESS": "0x" + "11" * 20,
            "PROVIDER_ADDRESS": "0x" + "22" * 20,
            **env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(SOURCE)],
            env=full_env,
            cwd=SOURCE.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def wait_healthy(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stdout.read() if self.proc.stdout else ""
            try:
                answer = requests.get(f"{self.url}/health", timeout=1)
                if answer.status_code == 200:
                    return dict(answer.json())
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError("the source never became healthy")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.kill()
        out, _ = self.proc.communicate(timeout=10)
        return out or ""


@pytest.fixture
def source(callbacks: Any) -> Iterator[Any]:
    started: list[SourceProcess] = []

    def start(**env: str) -> SourceProcess:
        proc = SourceProcess(callbacks.url, **env)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def test_the_source_serves_after_init_and_calls_back(source: Any, callbacks: Any) -> None:
    proc = source()
    assert proc.wait_healthy()["functions"] == ["analyze"]
    text = "Great and fast, but the docs were bad."
    answer = requests.post(f"{proc.url}/run/analyze/{TASK}", json={"text": text})
    assert answer.status_code == 202
    ((path, body),) = callbacks.wait(1)
    assert path == f"/callback/{TASK}"
    assert body == {"label": "positive", "score": 1.0, "words": 8}


def test_sigterm_lets_an_in_flight_task_finish(source: Any, callbacks: Any) -> None:
    proc = source(OGPU_SERVICE_GRACE_PERIOD="10")
    proc.wait_healthy()
    answer = requests.post(f"{proc.url}/run/analyze/{TASK}", json={"text": "good", "delay": 1})
    assert answer.status_code == 202
    proc.proc.send_signal(signal.SIGTERM)
    ((_, body),) = callbacks.wait(1, timeout=15)
    assert body == {"label": "positive", "score": 1.0, "words": 1}
    assert proc.proc.wait(15) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal
    with pytest.raises(requests.ConnectionError):  # no longer accepting
        requests.post(f"{proc.url}/run/analyze/0x02", json={"text": "x"}, timeout=2)


def test_sigterm_reports_a_task_that_outlives_the_grace_period(source: Any, callbacks: Any) -> None:
    proc = source(OGPU_SERVICE_GRACE_PERIOD="0.5")
    proc.wait_healthy()
    requests.post(f"{proc.url}/run/analyze/{TASK}", json={"text": "good", "delay": 20})
    time.sleep(0.2)
    started = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    ((_, body),) = callbacks.wait(1, timeout=10)
    assert body["error"]["type"] == "shutdown"
    assert proc.proc.wait(10) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 8  # not the handler's 20 s
    assert "still running at shutdown" in proc.stop()
