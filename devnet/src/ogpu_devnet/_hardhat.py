"""``HardhatDevnet``: Hardhat's node with the stub protocol deployed and the pinning service beside.

The alternative backend of ``ogpu-devnet serve --backend hardhat``: the same manifest (chain id
31071 by default, the same funded test accounts, the same contract addresses, since account 0
deploys in the same order on a fresh chain), so the SDK, the provider runtime and the pytest
fixtures work unchanged. Hardhat (npm ``hardhat``, pinned in ``devnet/hardhat/package.json``)
is installed once with ``npm ci`` into ``devnet/hardhat/node_modules`` (git-ignored) on first
use; Node.js and npm must be on PATH. Pick it for suites that outgrow the embedded py-evm chain
(see the README); there is no ``--state-dir`` for it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ogpu_devnet._devnet import (
    DEFAULT_MIN_LOCKUP_PER_SOURCE,
    DEFAULT_UNBONDING_PERIOD,
    DevnetConfigError,
    DevnetNotRunningError,
    _NodeAccess,
)
from ogpu_devnet.chain import DEFAULT_CHAIN_ID, DevAccount, DevnetError, default_accounts

if TYPE_CHECKING:
    from ogpu_devnet.ipfs import MockPinningService

HARDHAT_DIR_ENV = "OGPU_DEVNET_HARDHAT_DIR"
"""Environment variable naming the directory with Hardhat's ``package.json`` (optional)."""


class HardhatUnavailableError(DevnetError, RuntimeError):
    """Hardhat's node cannot be installed or started here (no Node.js/npm, no project dir)."""


def hardhat_dir() -> Path:
    """The directory holding Hardhat's ``package.json`` (``$OGPU_DEVNET_HARDHAT_DIR`` or the
    repository's ``devnet/hardhat``)."""
    configured = os.environ.get(HARDHAT_DIR_ENV)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "hardhat"


def ensure_hardhat(directory: Path | None = None, *, timeout: float = 900) -> Path:
    """Install Hardhat (``npm ci``) into ``directory`` once; returns its ``hardhat`` launcher."""
    directory = directory or hardhat_dir()
    if not (directory / "package.json").is_file():
        raise HardhatUnavailableError(
            f"no Hardhat project at {directory} (set {HARDHAT_DIR_ENV} to a copy of the "
            "repository's devnet/hardhat directory)"
        )
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise HardhatUnavailableError("Node.js and npm are needed for --backend hardhat")
    launcher = directory / "node_modules" / ".bin" / "hardhat"
    if not launcher.exists():
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0 or not launcher.exists():
            raise HardhatUnavailableError(f"npm ci failed in {directory}: {result.stderr[-2000:]}")
    return launcher


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class HardhatDevnet(_NodeAccess):
    """Hardhat's node (a child process), the protocol deployed on it, and a pinning service.

    Same interface as :class:`ogpu_devnet.Devnet` where it matters (``start``/``stop``, context
    manager, ``rpc_url``, ``contracts``, ``accounts``, and the same ``web3()`` and
    ``manifest()``, whose ``backend`` key says ``"hardhat"``).
    """

    _NOT_RUNNING = "the Hardhat devnet is not running; call start() first"
    _MANIFEST_EXTRA = {"backend": "hardhat"}

    def __init__(
        self,
        host: str = "127.0.0.1",
        rpc_port: int = 0,
        ipfs_port: int = 0,
        chain_id: int = DEFAULT_CHAIN_ID,
        unbonding_period: int = DEFAULT_UNBONDING_PERIOD,
        min_lockup_per_source: int = DEFAULT_MIN_LOCKUP_PER_SOURCE,
        start_timeout: float = 120,
    ) -> None:
        """Configure; nothing starts before :meth:`start`."""
        for name, value in (("rpc_port", rpc_port), ("ipfs_port", ipfs_port), ("chain_id", chain_id)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DevnetConfigError(f"{name} must be a non-negative integer")
        self.host = host
        self.chain_id = chain_id
        self.unbonding_period = unbonding_period
        self.min_lockup_per_source = min_lockup_per_source
        self.start_timeout = start_timeout
        self._rpc_port = rpc_port
        self._ipfs_port = ipfs_port
        self._proc: subprocess.Popen[bytes] | None = None
        self._url: str | None = None
        self.ipfs: MockPinningService | None = None
        self.contracts: dict[str, str] = {}
        self.accounts: list[DevAccount] = default_accounts()

    def __repr__(self) -> str:
        state = f"rpc_url={self._url!r}" if self._url else "stopped"
        return f"HardhatDevnet(chain_id={self.chain_id}, {state})"

    def start(self) -> HardhatDevnet:
        """Start Hardhat's node, deploy the protocol, start the pinning service."""
        if self._proc is not None:
            return self
        import requests

        from ogpu_devnet.contracts import deploy_protocol
        from ogpu_devnet.ipfs import MockPinningService

        launcher = ensure_hardhat()
        port = self._rpc_port or _free_port(self.host)
        env = {**os.environ, "OGPU_HARDHAT_CHAIN_ID": str(self.chain_id)}
        self._proc = subprocess.Popen(
            [str(launcher), "node", "--hostname", self.host, "--port", str(port)],
            cwd=launcher.parents[2],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        url = f"http://{self.host}:{port}"
        try:
            deadline = time.monotonic() + self.start_timeout
            while True:
                if self._proc.poll() is not None:
                    err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""  # fmt: skip
                    raise HardhatUnavailableError(f"Hardhat's node exited: {err[-2000:]}")
                try:
                    answer = requests.post(
                        url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2
                    ).json()
                    if answer.get("result"):
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise HardhatUnavailableError("Hardhat's node did not answer in time")
                time.sleep(0.05)
            if int(answer["result"], 16) != self.chain_id:
                raise HardhatUnavailableError(
                    f"Hardhat's node runs chain id {int(answer['result'], 16)}, not "
                    f"{self.chain_id} (its hardhat.config.js must read OGPU_HARDHAT_CHAIN_ID)"
                )
            self._url = url
            deployed = deploy_protocol(
                self.web3(),
                self.accounts[0].private_key,
                unbonding_period=self.unbonding_period,
                min_lockup_per_source=self.min_lockup_per_source,
            )
            self.contracts = {str(k): str(v) for k, v in deployed.items()}
            self.ipfs = MockPinningService(host=self.host, port=self._ipfs_port)
            self.ipfs.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the pinning service and Hardhat's node (idempotent)."""
        if self.ipfs is not None:
            self.ipfs.stop()
            self.ipfs = None
        proc, self._proc = self._proc, None
        self._url = None
        if proc is not None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=20)
            if proc.stderr is not None:
                proc.stderr.close()

    def __enter__(self) -> HardhatDevnet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def rpc_url(self) -> str:
        """``http://host:port`` of Hardhat's node."""
        if self._url is None:
            raise DevnetNotRunningError(self._NOT_RUNNING)
        return self._url
