"""``Devnet``: the chain, its JSON-RPC server and a mock pinning service, started together."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ogpu_devnet.chain import (
    DEFAULT_CHAIN_ID,
    DevAccount,
    DevnetChain,
    DevnetError,
    StateDirError,
)

if TYPE_CHECKING:
    from web3 import Web3

    from ogpu_devnet.ipfs import MockPinningService
    from ogpu_devnet.rpc import RPCServer

DEFAULT_UNBONDING_PERIOD = 60
"""Seconds between Vault.unbond and a possible claim on the devnet (small for tests)."""

DEFAULT_MIN_LOCKUP_PER_SOURCE = 10**15
"""Wei a provider must lock per registered source on the devnet (0.001 ether)."""

CONTRACT_KEYS = ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT", "MANAGER")


class _NodeAccess:
    """``web3()`` and ``manifest()`` of a running local network, shared by :class:`Devnet`
    and :class:`ogpu_devnet._hardhat.HardhatDevnet` (which set the class attributes)."""

    _NOT_RUNNING = "the devnet is not running; call start() first"
    _MANIFEST_EXTRA: dict[str, Any] = {}

    chain_id: int
    contracts: dict[str, str]
    accounts: list[DevAccount]
    ipfs: MockPinningService | None

    @property
    def rpc_url(self) -> str:
        """``http://host:port`` of the JSON-RPC node."""
        raise NotImplementedError

    def web3(self, timeout: float = 30) -> Web3:
        """A fresh web3.py client (HTTPProvider) connected to this network's node."""
        from web3 import Web3

        return Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": timeout}))

    def manifest(self) -> dict[str, Any]:
        """Everything a client needs: URLs, chain id, contract addresses, funded accounts."""
        if self.ipfs is None:
            raise DevnetNotRunningError(self._NOT_RUNNING)
        return {
            "rpc_url": self.rpc_url,
            "chain_id": self.chain_id,
            "contracts": dict(self.contracts),
            "ipfs_publish_url": self.ipfs.publish_url,
            "ipfs_gateway_url": self.ipfs.gateway_url,
            "accounts": [
                {"address": a.address, "private_key": a.private_key} for a in self.accounts
            ],
            **self._MANIFEST_EXTRA,
        }


class Devnet(_NodeAccess):
    """A local OpenGPU network: py-evm chain with the protocol deployed, JSON-RPC, pinning service.

    Use as a context manager (or call :meth:`start` / :meth:`stop`). Ports 0 pick free ports.
    With ``state_dir``, chain state (``state_dir/chain``) and pinned content
    (``state_dir/ipfs``) survive a restart; without it everything lives in memory.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        rpc_port: int = 0,
        ipfs_port: int = 0,
        state_dir: str | os.PathLike[str] | None = None,
        chain_id: int = DEFAULT_CHAIN_ID,
        unbonding_period: int = DEFAULT_UNBONDING_PERIOD,
        min_lockup_per_source: int = DEFAULT_MIN_LOCKUP_PER_SOURCE,
        *,
        max_batch: int | None = None,
        no_batch: bool = False,
    ) -> None:
        """Configure the network; nothing starts before :meth:`start`.

        ``max_batch`` / ``no_batch``: the JSON-RPC server refuses batches larger than
        ``max_batch`` calls (default 1000), or every batch (see :meth:`set_batching`).
        """
        if max_batch is not None and (
            isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1
        ):
            raise DevnetConfigError("max_batch must be a positive integer")
        for name, value in (
            ("rpc_port", rpc_port),
            ("ipfs_port", ipfs_port),
            ("unbonding_period", unbonding_period),
            ("min_lockup_per_source", min_lockup_per_source),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DevnetConfigError(f"{name} must be a non-negative integer")
        if rpc_port > 65535 or ipfs_port > 65535:
            raise DevnetConfigError("ports must be between 0 and 65535")
        self.host = host
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.chain_id = chain_id
        self.unbonding_period = unbonding_period
        self.min_lockup_per_source = min_lockup_per_source
        self._rpc_port = rpc_port
        self._ipfs_port = ipfs_port
        self._max_batch = max_batch
        self._no_batch = bool(no_batch)
        self.chain: DevnetChain | None = None
        self.rpc: RPCServer | None = None
        self.ipfs: MockPinningService | None = None
        self.contracts: dict[str, str] = {}
        self.accounts: list[DevAccount] = []

    def __repr__(self) -> str:
        state = f"rpc_url={self.rpc_url!r}" if self.rpc is not None else "stopped"
        return f"Devnet(chain_id={self.chain_id}, {state})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Devnet:
        """Start the chain (deploying the protocol on a fresh chain), RPC and pinning service."""
        if self.rpc is not None:
            return self
        from ogpu_devnet.rpc import RPCServer

        try:
            self.chain = DevnetChain(
                chain_id=self.chain_id,
                state_dir=self.state_dir / "chain" if self.state_dir is not None else None,
                params={
                    "unbonding_period": self.unbonding_period,
                    "min_lockup_per_source": self.min_lockup_per_source,
                },
            )
            self.accounts = list(self.chain.accounts)
            self.rpc = RPCServer(self.chain, self.host, self._rpc_port)
            self.rpc.knobs.set_batching(max_batch=self._max_batch, no_batch=self._no_batch)
            self.rpc.start()
            self.ipfs = self._start_ipfs()
            if self.chain.restored:
                contracts = self.chain.meta.get("contracts")
                if not isinstance(contracts, dict) or not contracts:
                    raise StateDirError(
                        f"{self.state_dir} holds an incomplete devnet (deployment never "
                        "finished); remove the directory and start again"
                    )
                self.contracts = dict(contracts)
            else:
                self.contracts = self._deploy()
                self.chain.save_meta(contracts=self.contracts)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_ipfs(self) -> MockPinningService:
        from ogpu_devnet.ipfs import MockPinningService

        kwargs: dict[str, Any] = {"host": self.host, "port": self._ipfs_port}
        if self.state_dir is not None:
            kwargs["state_dir"] = self.state_dir / "ipfs"
        service = MockPinningService(**kwargs)
        service.start()
        return service

    def _deploy(self) -> dict[str, str]:
        from ogpu_devnet.contracts import deploy_protocol

        result = deploy_protocol(
            self.web3(),
            self.accounts[0].private_key,
            unbonding_period=self.unbonding_period,
            min_lockup_per_source=self.min_lockup_per_source,
        )
        return {str(k): str(v) for k, v in result.items()}

    def stop(self) -> None:
        """Stop the servers and close the journal (idempotent)."""
        if self.ipfs is not None:
            self.ipfs.stop()
            self.ipfs = None
        if self.rpc is not None:
            self.rpc.stop()
            self.rpc = None
        if self.chain is not None:
            self.chain.close()

    def __enter__(self) -> Devnet:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ access

    @property
    def rpc_url(self) -> str:
        """``http://host:port`` of the JSON-RPC server."""
        if self.rpc is None:
            raise DevnetNotRunningError(self._NOT_RUNNING)
        return self.rpc.url

    # ------------------------------------------------------------------ fault knobs

    def _knobs(self) -> Any:
        if self.rpc is None:
            raise DevnetNotRunningError("the devnet is not running; call start() first")
        return self.rpc.knobs

    def set_batching(self, *, max_batch: int | None = None, no_batch: bool = False) -> None:
        """Make the JSON-RPC server refuse every batch (``no_batch``: HTTP 400 with one error
        object, as some gateways do) or batches above ``max_batch`` calls (one error object
        "batch too large", as geth does); ``set_batching()`` restores the default (1000)."""
        self._knobs().set_batching(max_batch=max_batch, no_batch=no_batch)

    def lag(
        self,
        requests: int,
        blocks: int = 1,
        *,
        every: int = 1,
        stale_latest: bool = True,
        after: int = 0,
    ) -> None:
        """Answer the next ``requests`` HTTP requests as a load-balanced replica ``blocks``
        behind the head would ("header not found" for newer pinned blocks, ``null`` for
        transactions mined in them, ``latest`` = the replica's head); ``lag(0)`` ends it.

        ``every=k``: only every k-th of those requests reaches the lagging replica.
        ``stale_latest=False``: ``latest`` and ``eth_blockNumber`` are current, only pinned
        blocks and new transactions are unknown. ``after=n``: the lag starts after the next n
        requests (see :meth:`ogpu_devnet.rpc.Knobs.lag`).
        """
        self._knobs().lag(requests, blocks, every=every, stale_latest=stale_latest, after=after)

    def drop_after(self, method: str, times: int = 1) -> None:
        """The next ``times`` requests calling ``method`` reach the chain and are executed,
        then the connection is closed before the answer (the client cannot know the outcome)."""
        self._knobs().drop_after(method, times)

    def reset_faults(self) -> None:
        """End any lag, forget pending drops and accept batches again (up to 1000 calls)."""
        knobs = self._knobs()
        knobs.reset()
        knobs.set_batching()


class DevnetConfigError(DevnetError, ValueError):
    """An invalid Devnet setting."""


class DevnetNotRunningError(DevnetError, RuntimeError):
    """The devnet was used before start() or after stop()."""
