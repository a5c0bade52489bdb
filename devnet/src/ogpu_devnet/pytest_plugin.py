"""pytest fixtures for tests against a local OpenGPU devnet (registered as the ``ogpu_devnet`` plugin).

Fixtures:

- ``devnet`` (session): a running :class:`ogpu_devnet.Devnet` on free loopback ports, started
  once per test session (once per xdist worker) and stopped at the end.
- ``devnet_w3`` (session): a web3.py client (HTTPProvider) connected to it.
- ``devnet_accounts`` (session): its funded accounts (``.address``, ``.private_key``).
- ``devnet_isolated`` (function): the devnet, with ``evm_snapshot`` taken before the test and
  ``evm_revert`` after it, so the test's transactions, time travel and auto-mining setting
  (``evm_setAutomine``) do not leak, nor do the RPC fault knobs (``Devnet.lag`` and co).

This module is imported in every pytest run of an environment with ogpu-devnet installed, so it
imports nothing heavy at module level.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from web3 import Web3

    from ogpu_devnet._devnet import Devnet
    from ogpu_devnet.chain import DevAccount


@pytest.fixture(scope="session")
def devnet() -> Iterator[Devnet]:
    """A running devnet (chain + JSON-RPC + pinning service) shared by the whole session."""
    from ogpu_devnet._devnet import Devnet

    with Devnet() as net:
        yield net


@pytest.fixture(scope="session")
def devnet_w3(devnet: Devnet) -> Web3:
    """A web3.py client connected to the session devnet over HTTP."""
    return devnet.web3()


@pytest.fixture(scope="session")
def devnet_accounts(devnet: Devnet) -> list[DevAccount]:
    """The devnet's funded accounts (public test keys; account 0 deployed the protocol)."""
    return list(devnet.accounts)


@pytest.fixture
def devnet_isolated(devnet: Devnet) -> Iterator[Devnet]:
    """The session devnet, reverted to its pre-test state (chain, clock and auto-mining
    setting) after the test."""
    assert devnet.chain is not None
    automine = devnet.chain.automine
    snapshot_id = devnet.chain.snapshot()
    try:
        yield devnet
    finally:
        devnet.chain.revert(snapshot_id)  # also drops transactions left waiting in the pool
        _forget_sdk_writes()
        devnet.chain.set_automine(automine)
        if devnet.rpc is not None:  # fault knobs (lag, drops, batch limits) do not leak either
            devnet.reset_faults()


def _forget_sdk_writes() -> None:
    """The chain went back below the SDK's last writes: its reads must not wait for them
    (read-your-writes, devnet/docs/live-chain.md row 43). Nothing to do if the SDK is not
    loaded (it is not imported for this)."""
    import sys

    rpc = sys.modules.get("ogpu.chain._rpc")
    if rpc is not None:
        rpc.forget_written_blocks()
