"""Read-your-writes on a lagging replica (devnet/docs/live-chain.md, last row).

After the executor saw a transaction mined in block N, a ``latest`` read through the same
client never describes a block before N: the devnet's replica knob (``Devnet.lag`` with
``stale_latest=True``: the next requests reach a replica one block behind, whose ``latest``
is block N - 1) makes the next reads land exactly there. They see the write (read again at
block N, which the client retries on "header not found" until an up-to-date replica
answers) or raise a typed error once the retries are spent, never the state before it.
"""

from __future__ import annotations

from typing import Any

import pytest
from ogpu.chain import ChainConfig
from ogpu.chain._rpc import RpcBlockUnavailableError, forget_written_blocks, hex_int
from ogpu.protocol import Task
from ogpu.types import TaskStatus


def _head(net: Any) -> int:
    return hex_int(ChainConfig.rpc_client().request("eth_blockNumber", []))


def _lag_left(net: Any) -> int:
    return int(net.devnet.rpc.knobs.lag_remaining)


def test_the_lagging_replica_would_serve_the_state_before_the_write(net: Any) -> None:
    """The control: without the record of the write, the replica's stale ``latest`` is what a
    read gets (the fault the other tests exercise is real)."""
    source = net.publish_source()
    net.fund_client()
    net.publish_task(source)
    forget_written_blocks()
    net.devnet.lag(1, blocks=1, stale_latest=True)
    assert source.get_task_count() == 0  # block N - 1: before the task
    assert source.get_task_count() == 1  # the up-to-date node


def test_reads_right_after_a_publish_see_it_on_a_lagging_replica(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    task = net.publish_task(source)
    written = ChainConfig.rpc_client().written_block
    assert written is not None and written == _head(net)
    # Each read: its first batch reaches the replica (latest = N - 1 < N), the batch pinned
    # to N reaches it too ("header not found"), the client's retry the up-to-date node.
    net.devnet.lag(2, blocks=1, stale_latest=True)
    assert source.get_task_count() == 1
    assert _lag_left(net) == 0
    net.devnet.lag(2, blocks=1, stale_latest=True)
    snap = task.snapshot()  # at N - 1 the task has no code: NotFound, or empty fields
    assert snap.payment == 100 and snap.status == TaskStatus.NEW
    assert _lag_left(net) == 0
    net.devnet.lag(2, blocks=1, stale_latest=True)
    assert Task.load(task.address).address == task.address  # eth_getCode pinned too
    assert _lag_left(net) == 0
    net.devnet.lag(2, blocks=1, stale_latest=True)
    assert [t.address for t in source.get_tasks()] == [task.address]
    assert _lag_left(net) == 0


def test_a_replica_that_never_catches_up_is_a_typed_error_not_the_old_state(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    net.publish_task(source)
    net.devnet.lag(10**6, blocks=1, stale_latest=True)
    try:
        with pytest.raises(RpcBlockUnavailableError, match="last transaction was mined"):
            source.get_task_count()
    finally:
        net.devnet.reset_faults()
    assert source.get_task_count() == 1


def test_a_replica_at_or_past_the_write_is_read_at_its_latest_in_one_round_trip(
    net: Any,
) -> None:
    """Nothing is pinned when the replica's head is at or past the write: one HTTP request,
    the replica's own ``latest``."""
    source = net.publish_source()
    net.fund_client()
    net.publish_task(source)
    written = ChainConfig.rpc_client().written_block
    ChainConfig.rpc_client().request("evm_mine", [])  # head N + 1: the replica's latest is N
    knobs = net.devnet.rpc.knobs
    net.devnet.lag(1, blocks=1, stale_latest=True)
    knobs.counts(reset=True)
    assert source.get_task_count() == 1
    assert knobs.counts()[0] == 1 and _lag_left(net) == 0
    assert ChainConfig.rpc_client().written_block == written
