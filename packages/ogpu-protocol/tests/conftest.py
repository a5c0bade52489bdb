"""Fixtures of the ogpu-protocol test suite.

From the ``ogpu_devnet`` plugin: ``devnet`` (session), ``devnet_isolated`` (evm_snapshot/revert
around a test). Added here:

- ``net``: the isolated devnet with ``ChainConfig`` pointed at it (current chain = devnet),
  nonce caches cleared, and helpers to build protocol state through the SDK itself.
- ``counting_proxy`` / ``fault_proxy``: ``ogpu_devnet.testing.FaultProxy`` in front of the
  devnet's JSON-RPC, counting HTTP requests (= round trips) and injecting faults.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ogpu.chain import ChainConfig, ChainId
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Response, Source, Task, chain_time, controller, nexus, vault
from ogpu.types import DeliveryMethod, Environment, SourceParams, TaskParams
from ogpu_devnet.chain import DevAccount
from ogpu_devnet.testing import FaultProxy, roles, use_devnet

ETHER = 10**18
LOCKUP = 10**16


def set_live_data(text: str, *, signer: Any = None, chain: Any = None) -> Any:
    """``Terminal.setLiveData(text)`` through the SDK's private executor: a cheap write with no
    preconditions for the executor/nonce tests. Not SDK surface (like ``submitResponse``, it is
    a provider-runtime call: devnet/docs/live-chain.md row 19)."""
    from ogpu.protocol._base import write
    from ogpu.protocol._revert import RevertContext
    from ogpu.types import Role

    return write(
        "Terminal",
        "setLiveData",
        (text,),
        signer=signer,
        role=Role.PROVIDER,
        chain=chain,
        ctx=lambda caller: RevertContext("Terminal.setLiveData", caller),
    )


class Net:
    """The devnet plus SDK-driven builders for test state."""

    def __init__(self, devnet: Any) -> None:
        self.devnet = devnet
        r = roles(devnet)
        self.deployer, self.client, self.provider, self.master = (
            r.deployer,
            r.client,
            r.provider,
            r.master,
        )
        self.other, self.provider2, self.accounts = r.other, r.provider2, list(r.accounts)
        self._meta_url: str | None = None

    @property
    def rpc_url(self) -> str:
        return str(self.devnet.rpc_url)

    def now(self) -> int:
        return chain_time()

    def increase_time(self, seconds: int) -> None:
        client = ChainConfig.rpc_client()
        client.request("evm_increaseTime", [seconds])
        client.request("evm_mine", [])

    def metadata_url(self) -> str:
        if self._meta_url is None:
            doc = {
                "cpu": "https://example.org/compose.yml",
                "nvidia": "",
                "amd": "",
                "name": "test source",
                "description": "d",
                "logoUrl": "",
            }
            self._meta_url = publish_to_ipfs(doc, filename="imageMetadata.json")
        return self._meta_url

    def source_params(
        self,
        *,
        client: str | None = None,
        delivery: int = 0,
        envs: int = 1,
        min_payment: int = 10,
        min_lockup: int = 0,
        max_expiry: int = 3600,
    ) -> SourceParams:
        return SourceParams(
            client=client or self.client.address,
            imageMetadataUrl=self.metadata_url(),
            imageEnvironments=envs,
            minPayment=min_payment,
            minAvailableLockup=min_lockup,
            maxExpiryDuration=max_expiry,
            deliveryMethod=delivery,
        )

    def publish_source(self, **kwargs: Any) -> Source:
        receipt = nexus.publish_source(self.source_params(**kwargs), signer=self.client.private_key)
        return Source.load(nexus.extract_source_address(receipt))

    def fund_client(self, amount: int = ETHER) -> None:
        vault.deposit(self.client.address, amount, signer=self.client.private_key)

    def publish_task(self, source: Source, *, payment: int = 100, ttl: int = 600) -> Task:
        url = publish_to_ipfs(
            {"function_name": "predict", "data": {"x": 1}}, filename="taskConfig.json"
        )
        params = TaskParams(
            source=source.address, config=url, expiryTime=self.now() + ttl, payment=payment
        )
        receipt = controller.publish_task(params, signer=self.client.private_key)
        return Task(controller.extract_task_address(receipt))

    def stake_provider(
        self, provider: DevAccount | None = None, amount: int = LOCKUP
    ) -> DevAccount:
        prov = provider or self.provider
        vault.deposit(prov.address, amount, signer=prov.private_key)
        vault.lock(amount, signer=prov.private_key)
        return prov

    def register(self, source: Source, provider: DevAccount | None = None) -> DevAccount:
        prov = self.stake_provider(provider)
        nexus.register(source.address, prov.address, Environment.CPU, signer=prov.private_key)
        return prov

    def respond(
        self, task: Task, provider: DevAccount, payload: dict[str, Any], payment: int = 50
    ) -> Response:
        """What a provider's source runtime does (test-only; the SDK exposes no such call)."""
        from ogpu.chain import resolve_signer
        from ogpu.protocol import _abi
        from ogpu.protocol._revert import RevertContext
        from ogpu.protocol._tx import transact

        url = publish_to_ipfs(payload, filename="response.json")
        fn = _abi.fn("mainnet", "Nexus", "submit" + "Response")
        account = resolve_signer(provider.private_key)
        transact(
            to=ChainConfig.get_contract_address("NEXUS"),
            data=fn.encode((task.address, provider.address, url, payment)),
            signer=account,
            ctx=RevertContext("test.respond", provider.address),
        )
        response = task.get_response_of(provider.address)
        assert response is not None
        return response

    def full_task(
        self, *, delivery: int = DeliveryMethod.MANUAL_CONFIRMATION.value
    ) -> tuple[Source, Task]:
        source = self.publish_source(delivery=delivery)
        self.fund_client()
        task = self.publish_task(source)
        return source, task


@pytest.fixture
def net(devnet_isolated: Any) -> Iterator[Net]:
    """The isolated devnet, configured as the SDK's current chain (restored afterwards)."""
    with use_devnet(devnet_isolated):
        yield Net(devnet_isolated)


@pytest.fixture
def counting_proxy(net: Net) -> Iterator[FaultProxy]:
    """A counting proxy in front of the devnet; the SDK's devnet RPC goes through it."""
    proxy = FaultProxy(net.rpc_url)
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=proxy.url)
    try:
        yield proxy
    finally:
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url)
        proxy.close()


@pytest.fixture
def fault_proxy(net: Net) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the devnet; the SDK's devnet RPC goes through it."""
    proxy = FaultProxy(net.rpc_url)
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=proxy.url)
    try:
        yield proxy
    finally:
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url)
        proxy.close()


#: The JSON-RPC behaviours the read models are tested under (see ``rpc_mode``).
RPC_MODES = ("normal", "no-batch", "max-batch-3", "lagging")


@pytest.fixture(params=RPC_MODES)
def rpc_mode(request: pytest.FixtureRequest, net: Net) -> Iterator[str]:
    """Run the test against the devnet in each JSON-RPC mode: normal; refusing every batch
    (``--no-batch``); refusing batches above 3 calls (``--max-batch 3``); and behind a load
    balancer where every third request reaches a replica one block behind (pinned reads answer
    "header not found", new transactions are not found yet). The SDK must give the same
    results in each."""
    from ogpu.chain._rpc import forget_batch_limits

    mode = str(request.param)
    devnet = net.devnet
    forget_batch_limits()
    if mode == "no-batch":
        devnet.set_batching(no_batch=True)
    elif mode == "max-batch-3":
        devnet.set_batching(max_batch=3)
    elif mode == "lagging":
        devnet.lag(10**9, blocks=1, every=3, stale_latest=False)
    try:
        yield mode
    finally:
        devnet.reset_faults()
        forget_batch_limits()
