"""HTTP round-trip bounds, counted by a loopback proxy in front of the devnet."""

from __future__ import annotations

import math
from typing import Any

from ogpu.chain import ChainConfig, resolve_signer
from ogpu.protocol import Source, Task, _abi, snapshot_all
from ogpu.protocol._revert import RevertContext
from ogpu.protocol._tx import transact


def test_single_snapshots_are_one_round_trip(net: Any, counting_proxy: Any) -> None:
    source, task = net.full_task()
    prov = net.register(source)
    from ogpu.protocol import Master, Provider

    for instance in (source, task, Provider(prov.address), Master(net.master.address)):
        counting_proxy.reset()
        instance.snapshot()
        assert counting_proxy.count == 1, type(instance).__name__
    response = net.respond(task, prov, {"a": 1}) if task.get_attempt_count() else None
    assert response is None
    counting_proxy.reset()
    Task.load(task.address)
    assert counting_proxy.count == 1


def _publish_many_tasks(net: Any, source: Source, n: int) -> None:
    """n tasks via Controller.publishTask, sent back-to-back (fast path for the fixture)."""
    from ogpu.protocol import controller  # noqa: F401  (the SDK path is tested elsewhere)
    from ogpu.types import TaskParams

    fn = _abi.fn("mainnet", "Controller", "publishTask")
    account = resolve_signer(net.client.private_key)
    expiry = net.now() + 3000
    for i in range(n):
        params = TaskParams(
            source=source.address, config=f"ipfs://task{i}", expiryTime=expiry, payment=10
        )
        transact(
            to=ChainConfig.get_contract_address("CONTROLLER"),
            data=fn.encode(params.to_tuple()),
            signer=account,
            ctx=RevertContext("publishTask", account.address),
        )


def test_pagination_and_many_snapshots(net: Any, counting_proxy: Any) -> None:
    source = net.publish_source()
    net.fund_client(10**18)
    n = 201  # three pages: the bound is ceil(201/100) + 1 = 4
    from ogpu.chain import ChainId

    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=net.rpc_url)  # setup bypasses the proxy
    _publish_many_tasks(net, source, n)
    ChainConfig.configure(ChainId.OGPU_DEVNET, rpc_url=counting_proxy.url)
    counting_proxy.reset()
    tasks = source.get_tasks()
    assert len(tasks) == n and len(set(tasks)) == n
    assert counting_proxy.count <= math.ceil(n / 100) + 1
    assert counting_proxy.count == 2  # count + one batch of 3 pages

    counting_proxy.reset()
    assert source.get_tasks(100, n) == tasks[100:]
    assert counting_proxy.count == 1

    counting_proxy.reset()
    snaps = snapshot_all(tasks[:50])
    assert [s.address for s in snaps] == [t.address for t in tasks[:50]]
    assert counting_proxy.count == 1

    counting_proxy.reset()
    all_snaps = source.get_task_snapshots()
    assert len(all_snaps) == n and all(s.source == source.address for s in all_snaps)
    # count, task list, and n x 8 calls in batches of 500 calls
    assert counting_proxy.count <= 2 + math.ceil(n * 8 / 500) + 1
    counting_proxy.reset()
    Source(source.address).snapshot()
    assert counting_proxy.count == 1
