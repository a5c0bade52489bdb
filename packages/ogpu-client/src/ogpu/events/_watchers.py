"""The public watchers: one async generator per Nexus event of interest."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

from eth_typing import ChecksumAddress
from ogpu.chain import ChainConfig
from ogpu.events import _chain
from ogpu.events._models import (
    AttemptedEvent,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
)
from ogpu.events._poller import JsonRpc, stream_logs
from ogpu.protocol import Response, Source, Task, decode_event, event_topic
from ogpu.types import ResponseStatus, TaskStatus, ValidationError

logger = logging.getLogger("ogpu.events")

E = TypeVar("E")


def _address_of(target: Any) -> ChecksumAddress:
    return _chain.checksum(getattr(target, "address", target))


def _check_polling(from_block: Any, poll_interval: Any) -> None:
    """Typed errors for bad ``from_block`` / ``poll_interval``, raised at the call (not later)."""
    if from_block is not None and (
        isinstance(from_block, bool) or not isinstance(from_block, int) or from_block < 0
    ):
        raise ValidationError(f"from_block must be None or a block number >= 0, got {from_block!r}")
    if (
        isinstance(poll_interval, bool)
        or not isinstance(poll_interval, (int, float))
        or not poll_interval > 0
    ):
        raise ValidationError(f"poll_interval must be a positive number, got {poll_interval!r}")


async def _watch(
    event: str,
    keep: Callable[[dict[str, Any]], bool],
    build: Callable[[dict[str, Any], dict[str, Any]], E],
    from_block: int | None,
    poll_interval: float,
) -> AsyncGenerator[E, None]:
    chain = ChainConfig.resolve()  # one chain (and ABI) for the topic and every decoded log
    stream = stream_logs(
        JsonRpc(),
        address=_chain.nexus_address(),
        topics=[event_topic(event, chain=chain)],
        from_block=from_block,
        poll_interval=poll_interval,
    )
    try:
        async for log in stream:
            values = decode_event(event, log, chain=chain)
            if values is not None and keep(values):
                position = {
                    "block_number": int(str(log["blockNumber"]), 0),
                    "transaction_hash": str(log["transactionHash"]),
                    "log_index": int(str(log["logIndex"]), 0),
                }
                logger.debug("%s at block %d", event, position["block_number"])
                yield build(values, position)
    finally:
        await stream.aclose()  # uninstalls the filter now, not at garbage collection


def watch_task_published(
    source_address: Source | str, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncGenerator[TaskPublishedEvent, None]:
    """Yield a TaskPublishedEvent for each task published on ``source``.

    Example::

        async for event in watch_task_published(source, from_block=0):
            print(event.task.address, event.block_number)
    """
    address = _address_of(source_address)
    _check_polling(from_block, poll_interval)
    return _watch(
        "TaskPublished",
        lambda v: v["source"] == address,
        lambda v, pos: TaskPublishedEvent(task=Task(v["task"]), source=Source(v["source"]), **pos),
        from_block,
        poll_interval,
    )


def watch_attempted(
    task_address: Task | str, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncGenerator[AttemptedEvent, None]:
    """Yield an AttemptedEvent for each provider attempting ``task``."""
    address = _address_of(task_address)
    _check_polling(from_block, poll_interval)
    return _watch(
        "Attempted",
        lambda v: v["task"] == address,
        lambda v, pos: AttemptedEvent(
            task=Task(v["task"]),
            provider=v["provider"],
            suggested_payment=int(v["suggestedPayment"]),
            **pos,
        ),
        from_block,
        poll_interval,
    )


def watch_response_submitted(
    task_address: Task | str, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncGenerator[ResponseSubmittedEvent, None]:
    """Yield a ResponseSubmittedEvent for each response a provider sends for ``task``."""
    address = _address_of(task_address)
    _check_polling(from_block, poll_interval)
    return _watch(
        "ResponseSubmitted",
        lambda v: v["task"] == address,
        lambda v, pos: ResponseSubmittedEvent(
            response=Response(v["response"]), task=Task(v["task"]), **pos
        ),
        from_block,
        poll_interval,
    )


def watch_response_status_changed(
    response_address: Response | str, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncGenerator[ResponseStatusChangedEvent, None]:
    """Yield a ResponseStatusChangedEvent each time ``response`` changes status."""
    address = _address_of(response_address)
    _check_polling(from_block, poll_interval)
    return _watch(
        "ResponseStatusChanged",
        lambda v: v["response"] == address,
        lambda v, pos: ResponseStatusChangedEvent(
            response=Response(v["response"]), status=ResponseStatus(v["status"]), **pos
        ),
        from_block,
        poll_interval,
    )


def watch_task_status_changed(
    task_address: Task | str, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncGenerator[TaskStatusChangedEvent, None]:
    """Yield a TaskStatusChangedEvent each time ``task`` changes status."""
    address = _address_of(task_address)
    _check_polling(from_block, poll_interval)
    return _watch(
        "TaskStatusChanged",
        lambda v: v["task"] == address,
        lambda v, pos: TaskStatusChangedEvent(
            task=Task(v["task"]), status=TaskStatus(v["status"]), **pos
        ),
        from_block,
        poll_interval,
    )


def watch_registered(
    source_address: Source | str, from_block: int | None = None, poll_interval: float = 2.0
) -> AsyncGenerator[RegisteredEvent, None]:
    """Yield a RegisteredEvent for each provider registering to ``source``."""
    address = _address_of(source_address)
    _check_polling(from_block, poll_interval)
    return _watch(
        "Registered",
        lambda v: v["source"] == address,
        lambda v, pos: RegisteredEvent(
            provider=v["provider"],
            registrant_id=int(v["registrantId"]),
            source=Source(v["source"]),
            **pos,
        ),
        from_block,
        poll_interval,
    )
