"""ogpu.events against the devnet: exactly once, in order, across a forgotten filter."""

from __future__ import annotations

import asyncio
from typing import Any

from ogpu.events import TaskPublishedEvent, watch_registered, watch_task_published
from ogpu.protocol import Source
from ogpu_devnet.provider import start_providers


def _uninstall_every_filter(net: Any) -> int:
    """Make the node forget every log filter, as a restarted node would (from outside)."""
    forgotten = 0
    for fid in range(1, 2048):
        if net.w3.provider.make_request("eth_uninstallFilter", [hex(fid)]).get("result"):
            forgotten += 1
    return forgotten


def test_only_new_events_exactly_once_across_a_forgotten_filter(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    old = _publish(net, source)  # before the watcher: not reported with from_block=None

    async def scenario() -> tuple[list[TaskPublishedEvent], int]:
        stream = watch_task_published(source, poll_interval=0.05)
        seen: list[TaskPublishedEvent] = []
        forgotten = 0

        async def consume() -> None:
            async for event in stream:
                seen.append(event)
                if len(seen) == 5:
                    return

        consumer = asyncio.ensure_future(consume())
        await asyncio.sleep(0.3)  # the watcher installs its filter
        tasks = [await asyncio.to_thread(_publish, net, source) for _ in range(2)]
        while len(seen) < 2:
            await asyncio.sleep(0.05)
        forgotten = await asyncio.to_thread(_uninstall_every_filter, net)
        tasks += [await asyncio.to_thread(_publish, net, source) for _ in range(3)]
        await asyncio.wait_for(consumer, 30)
        await stream.aclose()  # type: ignore[attr-defined]
        assert [e.task.address for e in seen] == tasks
        return seen, forgotten

    seen, forgotten = asyncio.run(scenario())
    assert forgotten >= 1
    assert old not in [e.task.address for e in seen]
    keys = [(e.block_number, e.log_index) for e in seen]
    assert keys == sorted(set(keys))  # in order, no duplicate
    assert all(e.source == source for e in seen)


def test_replay_from_block_then_live(net: Any, events: Any) -> None:
    start = net.w3.eth.block_number + 1
    source = net.publish_source()
    other = net.publish_source()
    net.fund_client()
    first = [_publish(net, source), _publish(net, other), _publish(net, source)]

    async def scenario() -> tuple[list[str], str]:
        stream = watch_task_published(source, from_block=start, poll_interval=0.05)
        got: list[str] = []
        live = ""
        async for event in stream:
            got.append(event.task.address)
            if len(got) == 2:  # the replayed ones; now publish live (one elsewhere, one here)
                await asyncio.to_thread(_publish, net, other)
                live = await asyncio.to_thread(_publish, net, source)
            if len(got) == 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
        return got, live

    got, live = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert got == [first[0], first[2], live]


def test_watch_registered_sees_provider_runtime(net: Any, events: Any) -> None:
    start = net.w3.eth.block_number + 1
    source = net.publish_source()
    with start_providers(net.devnet, lambda data: data, count=2, sources=[source]) as group:
        got = events(watch_registered(Source(source.address), from_block=start,
                                      poll_interval=0.05), 2)  # fmt: skip
        assert sorted(e.provider for e in got) == sorted(group.providers)
        assert sorted(e.registrant_id for e in got) == [0, 1]


def _publish(net: Any, source: Any) -> str:
    from ogpu.client import publish_task

    return publish_task(net.task_info(source, {"text": "x"}), net.client_key).address
