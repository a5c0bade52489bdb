"""Fixtures of the ogpu-protocol test suite.

From the ``ogpu_devnet`` plugin: ``devnet`` (session), ``devnet_isolated`` (evm_snapshot/revert
around a test). Added here:

- ``net``: the isolated devnet with ``ChainConfig`` pointed at it (current chain = devnet),
  nonce caches cleared, and helpers to build protocol state through the SDK itself.
- ``counting_proxy``: a loopback HTTP proxy in front of the devnet's JSON-RPC that counts
  HTTP requests (= round trips), for the batching bounds.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from ogpu.chain import ChainConfig, ChainId, clear_all_nonce_caches
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Response, Source, Task, chain_time, controller, nexus, vault
from ogpu.types import DeliveryMethod, Environment, SourceParams, TaskParams

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


@dataclass
class Acct:
    address: str
    private_key: str


class Net:
    """The devnet plus SDK-driven builders for test state."""

    def __init__(self, devnet: Any) -> None:
        self.devnet = devnet
        accts = [Acct(a.address, a.private_key) for a in devnet.accounts]
        self.deployer, self.client, self.provider, self.master, self.other = accts[:5]
        self.provider2 = accts[5]
        self.accounts = accts
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

    def stake_provider(self, provider: Acct | None = None, amount: int = LOCKUP) -> Acct:
        prov = provider or self.provider
        vault.deposit(prov.address, amount, signer=prov.private_key)
        vault.lock(amount, signer=prov.private_key)
        return prov

    def register(self, source: Source, provider: Acct | None = None) -> Acct:
        prov = self.stake_provider(provider)
        nexus.register(source.address, prov.address, Environment.CPU, signer=prov.private_key)
        return prov

    def respond(
        self, task: Task, provider: Acct, payload: dict[str, Any], payment: int = 50
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


def _configure(url: str, devnet: Any) -> None:
    ChainConfig.configure(
        ChainId.OGPU_DEVNET,
        rpc_url=url,
        contracts=dict(devnet.contracts),
        ipfs_publish_url=devnet.ipfs.publish_url,
        ipfs_gateway_url=devnet.ipfs.gateway_url,
    )
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)


@pytest.fixture
def net(devnet_isolated: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Net]:
    """The isolated devnet, configured as the SDK's current chain."""
    monkeypatch.setenv("OGPU_IPFS_PUBLISH_URL", devnet_isolated.ipfs.publish_url)
    monkeypatch.setenv("OGPU_IPFS_GATEWAY", devnet_isolated.ipfs.gateway_url)
    previous = ChainConfig.get_current_chain()
    dev = ChainId.OGPU_DEVNET
    saved_contracts = {
        name: ChainConfig.get_contract_address(name, dev)
        for name in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT", "MANAGER")
    }
    saved_ipfs = (ChainConfig.get_ipfs_publish_url(dev), ChainConfig.get_ipfs_gateway_url(dev))
    _configure(devnet_isolated.rpc_url, devnet_isolated)
    clear_all_nonce_caches()
    try:
        yield Net(devnet_isolated)
    finally:
        clear_all_nonce_caches()
        ChainConfig.reset_rpc(dev)
        # restore the built-in devnet defaults (other tests check them)
        ChainConfig.configure(
            dev,
            contracts=saved_contracts,
            ipfs_publish_url=saved_ipfs[0],
            ipfs_gateway_url=saved_ipfs[1],
        )
        ChainConfig.set_chain(previous)


class CountingProxy:
    """Forwards every POST to ``target`` and counts them (one count = one round trip)."""

    def __init__(self, target: str, delay: float = 0.0) -> None:
        self.target = target
        self.delay = delay
        self.count = 0
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with proxy._lock:
                    proxy.count += 1
                    proxy.bodies.append(body)
                if proxy.delay:
                    time.sleep(proxy.delay)
                req = urllib.request.Request(
                    proxy.target, data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=60) as upstream:
                    answer = upstream.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def reset(self) -> None:
        with self._lock:
            self.count = 0
            self.bodies.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_proxy(net: Net) -> Iterator[CountingProxy]:
    """A counting proxy in front of the devnet; the SDK's devnet RPC goes through it."""
    proxy = CountingProxy(net.rpc_url)
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=proxy.url)
    try:
        yield proxy
    finally:
        ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url)
        proxy.close()


class FaultProxy:
    """A loopback JSON-RPC proxy in front of the devnet that injects faults on chosen methods.

    ``faults[method]`` is a list of actions consumed one per matching single (non-batch) call:

    - ``"drop"``: close the connection without forwarding (the node never sees the call);
    - ``"forward_then_drop"``: forward, then close without answering (the answer is lost);
    - ``"swallow"``: answer a dummy success without forwarding (a node that loses the tx);
    - ``("error", code, message)``: answer this JSON-RPC error without forwarding;
    - ``("forward_then_error", code, message)``: forward (the node acts on the call), then
      answer this JSON-RPC error instead of the node's answer.

    Every ``eth_sendRawTransaction`` that reached the node is recorded in ``forwarded_raw``;
    every one the proxy saw (whatever its fate) in ``seen_raw``.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.faults: dict[str, list[Any]] = {}
        self.seen_raw: list[str] = []
        self.forwarded_raw: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                payload = json.loads(body)
                action: Any = None
                method = payload.get("method") if isinstance(payload, dict) else None
                with proxy._lock:
                    if method == "eth_sendRawTransaction":
                        proxy.seen_raw.append(payload["params"][0])
                    queue = proxy.faults.get(str(method))
                    if queue:
                        action = queue.pop(0)
                if action == "drop":
                    self.close_connection = True
                    return
                if action == "swallow":
                    self._answer(
                        {"jsonrpc": "2.0", "id": payload["id"], "result": "0x" + "00" * 32}
                    )
                    return
                if isinstance(action, tuple) and action[0] == "forward_then_error":
                    proxy._forward(body, method, payload)
                    error = {"code": action[1], "message": action[2]}
                    self._answer({"jsonrpc": "2.0", "id": payload["id"], "error": error})
                    return
                if isinstance(action, tuple) and action[0] == "error":
                    error = {"code": action[1], "message": action[2]}
                    self._answer({"jsonrpc": "2.0", "id": payload["id"], "error": error})
                    return
                answer = proxy._forward(body, method, payload)
                if action == "forward_then_drop":
                    self.close_connection = True
                    return
                self._answer_bytes(answer)

            def _answer(self, obj: Any) -> None:
                self._answer_bytes(json.dumps(obj).encode())

            def _answer_bytes(self, answer: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _forward(self, body: bytes, method: Any, payload: Any) -> bytes:
        req = urllib.request.Request(
            self.target, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=60) as upstream:
            answer: bytes = upstream.read()
        if method == "eth_sendRawTransaction":
            with self._lock:
                self.forwarded_raw.append(payload["params"][0])
        return answer

    def inject(self, method: str, *actions: Any) -> None:
        """Queue ``actions`` for the next calls of ``method``."""
        with self._lock:
            self.faults.setdefault(method, []).extend(actions)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
