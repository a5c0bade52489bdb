"""``ogpu_devnet.testing``: the SDK pointed at a devnet and back, role accounts, and the counting,
fault-injecting JSON-RPC proxy, against the session devnet over real sockets."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from typing import Any

import pytest
import requests
from ogpu.chain import ChainConfig, ChainId
from ogpu.chain._rpc import RpcClient
from ogpu.protocol import vault
from ogpu.types import TxRpcError
from ogpu_devnet.testing import FaultProxy, roles, use_devnet


def _post(url: str, payload: Any) -> Any:
    body = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as answer:
        return json.loads(answer.read())


def test_use_devnet_points_the_sdk_at_the_devnet_and_restores_everything(devnet: Any) -> None:
    dev = ChainId.OGPU_DEVNET
    before = (
        ChainConfig.get_current_chain(),
        ChainConfig.get_rpc(dev),
        ChainConfig.get_contract_address("NEXUS", dev),
        ChainConfig.get_ipfs_publish_url(dev),
        os.environ.get("OGPU_IPFS_PUBLISH_URL"),
    )
    with use_devnet(devnet) as accounts:
        assert ChainConfig.get_current_chain() == dev
        assert ChainConfig.get_rpc() == devnet.rpc_url
        assert ChainConfig.get_contract_address("NEXUS") == devnet.contracts["NEXUS"]
        assert os.environ["OGPU_IPFS_PUBLISH_URL"] == devnet.ipfs.publish_url
        assert accounts.client.address == devnet.accounts[1].address
        # the SDK reads the devnet's funded client through the configured chain
        assert vault.get_balance_of(accounts.client.address) >= 0
    after = (
        ChainConfig.get_current_chain(),
        ChainConfig.get_rpc(dev),
        ChainConfig.get_contract_address("NEXUS", dev),
        ChainConfig.get_ipfs_publish_url(dev),
        os.environ.get("OGPU_IPFS_PUBLISH_URL"),
    )
    assert after == before


def test_use_devnet_restores_after_an_error(devnet: Any) -> None:
    previous = ChainConfig.get_current_chain()
    with pytest.raises(KeyError), use_devnet(devnet):
        raise KeyError("inside")
    assert ChainConfig.get_current_chain() == previous


def test_roles_are_distinct_funded_accounts(devnet: Any) -> None:
    r = roles(devnet)
    named = [r.deployer, r.client, r.provider, r.master, r.other, r.provider2]
    assert len({a.address for a in named}) == 6
    assert list(r.accounts[:6]) == named
    named += [r.agent, r.client2]
    assert len({a.address for a in named}) == 8
    assert list(r.accounts[:8]) == named
    for account in named:
        balance = _post(
            devnet.rpc_url,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "eth_getBalance",
                "params": [account.address, "latest"],
            },
        )
        assert int(balance["result"], 16) > 10**18
    assert r.client.private_key not in repr(r)


def test_the_proxy_counts_and_injects_faults(devnet: Any) -> None:
    with FaultProxy(devnet.rpc_url) as proxy:
        client = RpcClient(proxy.url)
        try:
            assert int(client.request("eth_chainId", []), 16) == devnet.chain_id
            assert proxy.count == 1
            proxy.fail_next("eth_blockNumber", 1, -32602, "invalid argument")
            with pytest.raises(TxRpcError) as info:
                client.request("eth_blockNumber", [])
            assert info.value.code == -32602
            proxy.respond_next("eth_blockNumber", 1, "0x2a")
            assert client.request("eth_blockNumber", []) == "0x2a"
            proxy.fail_next("eth_gasPrice", 1, -32000, "busy")
            proxy.reset_faults()
            assert int(client.request("eth_gasPrice", []), 16) > 0
            assert proxy.count == 4
            proxy.reset()
            assert proxy.count == 0 and proxy.bodies == []
        finally:
            client.close()


def test_the_readme_example_a_lost_answer_sends_once(devnet_isolated: Any) -> None:
    with (
        FaultProxy(devnet_isolated.rpc_url) as proxy,
        use_devnet(devnet_isolated, rpc_url=proxy.url) as accounts,
    ):
        proxy.drop_after("eth_sendRawTransaction")
        vault.deposit(accounts.client.address, 10**15, signer=accounts.client.private_key)
        assert vault.get_balance_of(accounts.client.address) >= 10**15
    assert len(proxy.forwarded_raw) == 1


def test_one_proxy_for_rpc_and_pinning_service_with_latency_and_hooks(devnet: Any) -> None:
    """``rpc_path`` + ``http_upstream``: JSON-RPC and the pinning service behind one proxy,
    both delayed by ``latency`` and counted; ``control`` answers its own requests (not counted);
    a refused batch's HTTP status reaches the caller unchanged."""
    seen: list[tuple[str, int]] = []

    class Marked(FaultProxy):
        def on_request(self, kind: str, calls: int) -> None:
            seen.append((kind, calls))

        def control(self, verb: str, path: str, body: bytes) -> bytes | None:
            return b"marked" if path == "/_mark" else None

    with pytest.raises(ValueError, match="rpc_path"):
        FaultProxy(devnet.rpc_url, http_upstream=devnet.ipfs.base_url)
    with Marked(
        devnet.rpc_url, latency=0.05, rpc_path="/rpc", http_upstream=devnet.ipfs.base_url
    ) as proxy:
        assert proxy.url == proxy.base + "/rpc"
        started = time.monotonic()
        batch = [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []} for i in (1, 2)]
        answers = _post(proxy.url, batch)
        assert [int(a["result"], 16) for a in answers] == [devnet.chain_id] * 2
        assert time.monotonic() - started >= 0.05
        upload = requests.post(
            proxy.base + "/file/create", files={"file": ("a.txt", b"hello")}, timeout=10
        )
        assert upload.status_code == 200, upload.text
        cid = upload.json()["link"].rsplit("/", 1)[-1]
        fetched = requests.get(f"{proxy.base}/ipfs/{cid}", timeout=10)
        assert fetched.status_code == 200 and fetched.content == b"hello"
        assert requests.post(proxy.base + "/_mark", timeout=10).content == b"marked"
        assert (proxy.count, proxy.rpc_calls, proxy.relayed) == (3, 2, 2)
        assert seen == [("rpc", 2), ("http", 0), ("http", 0)]
        assert devnet.ipfs.count("/file/create") >= 1

        devnet.set_batching(no_batch=True)
        try:
            refused = requests.post(proxy.url, json=batch, timeout=10)
        finally:
            devnet.set_batching()
        assert refused.status_code == 400


def test_use_devnet_env_false_leaves_the_environment_alone(
    devnet: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OGPU_IPFS_PUBLISH_URL", raising=False)
    with use_devnet(devnet, env=False):
        assert "OGPU_IPFS_PUBLISH_URL" not in os.environ
        assert ChainConfig.get_ipfs_publish_url(ChainId.OGPU_DEVNET) == devnet.ipfs.publish_url
    assert "OGPU_IPFS_PUBLISH_URL" not in os.environ


def test_keep_alive_proxy_forwards_many_requests_on_kept_connections(devnet: Any) -> None:
    with FaultProxy(
        devnet.rpc_url, rpc_path="/rpc", http_upstream=devnet.ipfs.base_url, keep_alive=True
    ) as proxy:
        body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        with requests.Session() as session:
            for _ in range(5):
                answer = session.post(proxy.url, json=body, timeout=10).json()
                assert int(answer["result"], 16) == devnet.chain_id
            assert session.get(proxy.base + "/ipfs/nonexistent", timeout=10).status_code >= 400
        assert (proxy.count, proxy.rpc_calls, proxy.relayed) == (6, 5, 1)
