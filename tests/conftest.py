"""Fixtures of the cross-package and end-to-end tests.

Everything runs against the session devnet (``devnet`` fixture of the ogpu_devnet pytest
plugin) over HTTP. Each end-to-end test runs inside ``net`` (an evm_snapshot reverted after
the test) and starts the providers it needs with ``providers`` (stopped before the revert).

The SDK is pointed at the devnet with ``ogpu_devnet.testing.use_devnet`` (for the session, the
``OGPU_IPFS_*`` environment left alone), and
the accounts are its role accounts (``ogpu_devnet.testing.roles``: client = 1, stand-alone
provider = 2, its master = 3, agent = 6, other client = 7; the last one funds the provider
runtime's fresh keys).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from ogpu.chain import ChainConfig, ChainId, ChainLike, clear_all_nonce_caches
from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    Source,
    SourceInfo,
    TaskInfo,
    TaskInput,
    publish_source,
)
from ogpu.protocol import vault
from ogpu_devnet.testing import roles, use_devnet

ETHER = 10**18
PAYMENT = 10**16
T = TypeVar("T")


@pytest.fixture(scope="session")
def ogpu_chain(devnet: Any) -> Iterator[ChainLike]:
    """ogpu.chain pointed at the session devnet (the current chain for the rest of the
    session; the previous configuration comes back when the session ends)."""
    with use_devnet(devnet, env=False):
        yield ChainId.OGPU_DEVNET


@dataclass
class Net:
    """The devnet as an end-to-end test sees it: handles, keys and small helpers."""

    devnet: Any
    chain: ChainLike
    client_key: str
    client: str
    client2_key: str
    agent_key: str
    agent: str
    provider_key: str
    provider: str
    master_key: str
    master: str

    @property
    def w3(self) -> Any:
        return ChainConfig.get_web3()

    def now(self) -> int:
        """The chain's clock (latest block timestamp)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        """Move the chain clock forward and mine a block (JSON-RPC, like any node's tests)."""
        self.w3.provider.make_request("evm_increaseTime", [seconds])
        self.w3.provider.make_request("evm_mine", [])

    def source_info(
        self,
        delivery: DeliveryMethod = DeliveryMethod.FIRST_RESPONSE,
        *,
        name: str = "sentiment",
        min_lockup: int = 0,
    ) -> SourceInfo:
        return SourceInfo(
            name=name,
            description="word counts and a tiny sentiment lexicon",
            logoUrl="https://example.org/logo.png",
            imageEnvs=ImageEnvironments(cpu="https://example.org/docker-compose.yml"),
            minPayment=10**15,
            minAvailableLockup=min_lockup,
            maxExpiryDuration=3600,
            deliveryMethod=delivery,
        )

    def publish_source(self, delivery: DeliveryMethod = DeliveryMethod.FIRST_RESPONSE) -> Source:
        return publish_source(self.source_info(delivery), self.client_key)

    def task_info(
        self, source: Source | str, data: Any, *, expires_in: int = 600, payment: int = PAYMENT
    ) -> TaskInfo:
        return TaskInfo(
            source=str(source),
            config=TaskInput(function_name="analyze", data=data),
            expiryTime=self.now() + expires_in,
            payment=payment,
        )

    def fund_client(self, amount: int = ETHER, key: str | None = None) -> None:
        account_key = key or self.client_key
        from eth_account import Account

        vault.deposit(Account.from_key(account_key).address, amount, signer=account_key)


@pytest.fixture
def net(devnet_isolated: Any, ogpu_chain: ChainLike) -> Iterator[Net]:
    """The session devnet inside an evm_snapshot (reverted after the test)."""
    clear_all_nonce_caches()  # a previous test's revert rewound every nonce
    r = roles(devnet_isolated)
    yield Net(
        devnet=devnet_isolated,
        chain=ogpu_chain,
        client_key=r.client.private_key,
        client=r.client.address,
        client2_key=r.client2.private_key,
        agent_key=r.agent.private_key,
        agent=r.agent.address,
        provider_key=r.provider.private_key,
        provider=r.provider.address,
        master_key=r.master.private_key,
        master=r.master.address,
    )
    clear_all_nonce_caches()


@pytest.fixture
def providers(net: Net) -> Iterator[Callable[..., Any]]:
    """Start provider runtimes on the devnet: ``providers(handler, count=1, sources=[...])``.

    Every runtime started is stopped when the test ends (before the chain is reverted).
    """
    from ogpu_devnet.provider import start_providers

    started: list[Any] = []

    def start(handler: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("poll_interval", 0.05)
        group = start_providers(net.devnet, handler, **kwargs)
        started.append(group)
        return group

    yield start
    for group in started:
        group.stop()


def collect(stream: AsyncIterator[T], count: int, timeout: float = 30.0) -> list[T]:
    """The first ``count`` items of an async event stream (closing it afterwards)."""

    async def gather() -> list[T]:
        items: list[T] = []
        async for item in stream:
            items.append(item)
            if len(items) >= count:
                break
        return items

    async def run() -> list[T]:
        try:
            return await asyncio.wait_for(gather(), timeout)
        finally:
            await stream.aclose()  # type: ignore[attr-defined]

    return asyncio.run(run())


@pytest.fixture
def events() -> Callable[..., list[Any]]:
    """``events(stream, count, timeout=30)``: collect events from an ogpu.events watcher."""
    return collect
