"""The ogpu-service wheel installed alone into a fresh venv serves a handler over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]

SOURCE = textwrap.dedent(
    """
    from pydantic import BaseModel
    from ogpu.service import ServiceError, expose, init, logger, start

    class In(BaseModel):
        text: str

    class Out(BaseModel):
        upper: str

    @init()
    def load() -> None:
        logger.info("root error class: %s", ServiceError.__mro__[1].__name__)

    @expose(timeout=10)
    def shout(data: In) -> Out:
        return Out(upper=data.text.upper())

    start()
    """
)


@pytest.mark.slow
def test_wheel_alone_in_a_fresh_venv_serves_a_handler(tmp_path: Path, callbacks: Any) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(ROOT / "packages" / "ogpu-service"),
         str(ROOT / "packages" / "ogpu-ipfs")],
        check=True,
    )  # fmt: skip
    built = sorted(str(w) for w in wheels.glob("ogpu_*.whl"))
    assert len(built) == 2
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-c", str(ROOT / "constraints.txt"), *built],
        check=True,
    )  # fmt: skip
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
    ).stdout.lower()
    names = {line.split("==")[0] for line in listed.split()}
    assert {"ogpu-service", "ogpu-ipfs", "starlette", "uvicorn", "pydantic"} <= names
    assert not {"web3", "ogpu-protocol", "ogpu-client", "fastapi"} & names
    (tmp_path / "main.py").write_text(SOURCE)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL"))}
    env.update(OGPU_SERVICE_HOST="127.0.0.1", OGPU_SERVICE_PORT=str(port),
               CALLBACK_URL=callbacks.url)  # fmt: skip
    proc = subprocess.Popen(
        [str(python), "main.py"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None and time.monotonic() < deadline
            try:
                if requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        answer = requests.post(f"http://127.0.0.1:{port}/run/shout/0x01", json={"text": "hi"})
        assert answer.status_code == 202
        assert callbacks.wait(1) == [("/callback/0x01", {"upper": "HI"})]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "root error class: OGPUError" in out  # the SDK's one root
    assert "Traceback" not in out
