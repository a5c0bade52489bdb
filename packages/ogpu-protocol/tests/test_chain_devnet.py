"""ogpu.chain against real nodes: connection caching on set_rpc, the nonce tools, and
user-registered chains (a second devnet with its own chain id)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from ogpu.chain import (
    WEB3,
    ChainConfig,
    ChainId,
    CustomChain,
    NonceManager,
    Web3Manager,
    clear_all_nonce_caches,
    fix_nonce,
    get_nonce_info,
    get_web3_for_chain,
    reset_nonce_cache,
)
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Source, Task, controller, nexus, snapshot_all, terminal, vault
from ogpu.types import (
    ConfigError,
    InvalidSignerError,
    MissingSignerError,
    SourceNotFoundError,
    SourceParams,
    TaskParams,
    TaskStatus,
)
from ogpu_devnet.testing import roles

from .conftest import set_live_data

# ------------------------------------------------------------------------- RPC and caching


def test_set_rpc_drops_cached_web3_and_session(net: Any, counting_proxy: Any) -> None:
    devnet = ChainId.OGPU_DEVNET
    ChainConfig.set_rpc(net.rpc_url)  # the current chain (the devnet), probed first
    assert ChainConfig.get_rpc() == net.rpc_url == ChainConfig.get_rpc(devnet)
    w1, c1 = ChainConfig.get_web3(), ChainConfig.rpc_client()
    assert ChainConfig.get_web3(devnet) is w1 and ChainConfig.rpc_client(devnet) is c1  # cached
    assert WEB3() is w1 and get_web3_for_chain(devnet) is w1
    assert Web3Manager.get_web3_instance() is w1
    assert w1.eth.chain_id == devnet.value
    counting_proxy.reset()
    vault.get_balance_of(net.other.address)
    assert counting_proxy.count == 0  # not routed through the proxy

    ChainConfig.set_rpc(counting_proxy.url, devnet)
    w2, c2 = ChainConfig.get_web3(), ChainConfig.rpc_client()
    assert w2 is not w1 and c2 is not c1  # both dropped and rebuilt
    assert ChainConfig.get_rpc() == counting_proxy.url
    counting_proxy.reset()
    vault.get_balance_of(net.other.address)
    assert counting_proxy.count == 1  # the SDK's reads follow the new URL
    counting_proxy.reset()
    assert w2.eth.block_number >= 0
    assert counting_proxy.count >= 1  # and so does the new Web3

    Web3Manager.update_rpc_url(devnet, net.rpc_url)
    w3 = ChainConfig.get_web3()
    assert w3 is not w2 and ChainConfig.rpc_client() is not c2
    counting_proxy.reset()
    vault.get_balance_of(net.other.address)
    w3.eth.block_number  # noqa: B018
    assert counting_proxy.count == 0

    ChainConfig.reset_rpc()
    assert ChainConfig.get_rpc() == "http://127.0.0.1:8545"
    assert ChainConfig.get_web3() is not w3


# ------------------------------------------------------------------------- nonce tools


def test_nonce_tools(net: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    acct = net.other
    clear_all_nonce_caches()
    info = get_nonce_info(acct.address)
    assert set(info) == {
        "address",
        "mined_nonce",
        "pending_nonce",
        "cached_nonce",
        "has_pending",
        "pending_count",
    }
    start = info["mined_nonce"]
    assert info["address"] == acct.address and info["pending_nonce"] == start
    assert (info["cached_nonce"], info["has_pending"], info["pending_count"]) == (None, False, 0)

    set_live_data("n1", signer=acct.private_key)
    info = get_nonce_info(private_key=acct.private_key)
    assert info["address"] == acct.address
    assert info["mined_nonce"] == start + 1 == info["cached_nonce"]

    reset_nonce_cache(acct.address.lower())
    assert get_nonce_info(acct.address)["cached_nonce"] is None
    set_live_data("n2", signer=acct.private_key)
    assert NonceManager.get_cached_nonce(acct.address) == start + 2
    reset_nonce_cache(private_key=acct.private_key)
    assert NonceManager.get_cached_nonce(acct.address) is None

    set_live_data("n3", signer=acct.private_key)
    clear_all_nonce_caches()
    assert get_nonce_info(acct.address)["cached_nonce"] is None

    monkeypatch.setenv("CLIENT_PRIVATE_KEY", acct.private_key)
    set_live_data("n4", signer=acct.private_key)
    reset_nonce_cache()  # address from CLIENT_PRIVATE_KEY
    assert NonceManager.get_cached_nonce(acct.address) is None

    # nothing pending: fix_nonce sends nothing and returns the next nonce
    assert fix_nonce(acct.address) == start + 4
    assert fix_nonce(private_key=acct.private_key) == start + 4
    assert fix_nonce() == start + 4
    assert get_nonce_info(acct.address)["mined_nonce"] == start + 4
    with pytest.raises(InvalidSignerError) as err:
        fix_nonce(net.client.address, private_key=acct.private_key)
    assert acct.private_key[2:] not in str(err.value)
    monkeypatch.delenv("CLIENT_PRIVATE_KEY")
    with pytest.raises(MissingSignerError):
        get_nonce_info()


# ------------------------------------------------------------------------- registered chains

OTHER_CHAIN_ID = 4242


@pytest.fixture(scope="module")
def other_devnet() -> Iterator[Any]:
    """A second devnet with its own chain id (what an anvil fork or private net looks like)."""
    from ogpu_devnet import Devnet

    with Devnet(chain_id=OTHER_CHAIN_ID) as devnet:
        yield devnet


@pytest.fixture
def registered(other_devnet: Any) -> Iterator[CustomChain]:
    handle = ChainConfig.register_chain(
        OTHER_CHAIN_ID,
        "private net",
        other_devnet.rpc_url,
        {k: v.lower() for k, v in other_devnet.contracts.items()},
        ipfs_publish_url=other_devnet.ipfs.publish_url,
        ipfs_gateway_url=other_devnet.ipfs.gateway_url,
    )
    previous = ChainConfig.get_current_chain()
    try:
        yield handle
    finally:
        ChainConfig.set_chain(previous if previous != handle else ChainId.OGPU_MAINNET)
        ChainConfig.unregister_chain(handle)


def test_user_registered_chain_reads_and_writes(
    net: Any, other_devnet: Any, registered: CustomChain
) -> None:
    """The whole write/read path on a registered chain, selected per call and as current chain,
    while the built-in devnet stays untouched."""
    r = roles(other_devnet)
    client, provider = r.client, r.provider
    assert ChainConfig.get_contract_address("NEXUS", registered) == other_devnet.contracts["NEXUS"]
    assert ChainConfig.resolve(OTHER_CHAIN_ID) == registered

    doc = {"cpu": "c", "nvidia": "", "amd": "", "name": "private", "description": "", "logoUrl": ""}
    meta = publish_to_ipfs(doc, publish_url=ChainConfig.get_ipfs_publish_url(registered))
    params = SourceParams(
        client=client.address,
        imageMetadataUrl=meta,
        imageEnvironments=1,
        minPayment=10,
        minAvailableLockup=0,
        maxExpiryDuration=3600,
    )
    receipt = nexus.publish_source(params, signer=client.private_key, chain=registered)
    source = Source.load(nexus.extract_source_address(receipt, chain=registered), registered)
    assert source.chain == registered
    assert source.get_client() == client.address and source.get_metadata()["name"] == "private"
    vault.deposit(client.address, 10**18, signer=client.private_key, chain=registered)
    block = ChainConfig.rpc_client(registered).request("eth_getBlockByNumber", ["latest", False])
    task_params = TaskParams(
        source=source.address,
        config=meta,
        expiryTime=int(block["timestamp"], 16) + 600,
        payment=100,
    )
    receipt = controller.publish_task(task_params, signer=client.private_key, chain=registered)
    task = Task.load(controller.extract_task_address(receipt, chain=registered), registered)
    assert task.snapshot().status is TaskStatus.NEW
    assert source.get_tasks() == [task] and source.get_task_snapshots()[0].address == task.address

    # not on the built-in devnet (same deterministic addresses, different state)
    with pytest.raises(SourceNotFoundError):
        Source.load(source.address, ChainId.OGPU_DEVNET)

    # as the current chain: no chain= arguments
    ChainConfig.set_chain(registered)
    assert ChainConfig.get_current_chain() == registered
    assert Task(task.address).get_payment() == 100
    assert vault.get_frozen_payment(client.address) == 100
    assert get_nonce_info(client.address)["mined_nonce"] >= 3
    set_live_data("hello", signer=provider.private_key)
    assert terminal.get_live_data_of(provider.address) == "hello"
    assert snapshot_all([source, task])[1].payment == 100


def test_chain_id_mismatch_refuses_to_sign(net: Any) -> None:
    """A registered chain whose node reports another chain id: nothing is signed or sent."""
    handle = ChainConfig.register_chain(
        4243, "misconfigured", net.rpc_url, dict(net.devnet.contracts)
    )
    try:
        before = get_nonce_info(net.other.address)["mined_nonce"]
        with pytest.raises(ConfigError, match="chain id"):
            set_live_data("x", signer=net.other.private_key, chain=handle)
        assert get_nonce_info(net.other.address)["mined_nonce"] == before
        # reads do not sign: they work against the same contracts
        assert terminal.get_live_data_of(net.other.address, chain=handle) == ""
    finally:
        ChainConfig.unregister_chain(handle)
