"""Protocol events as async generators, polled over HTTP JSON-RPC log filters.

No websockets: each watcher installs an ``eth_newFilter`` on the Nexus and polls
``eth_getFilterChanges`` every ``poll_interval`` seconds. ``from_block=None``
yields only events mined after the call; an int replays from that block first
(``eth_getLogs``). Every event is yielded exactly once and in chain order, also
when the node forgets the filter (it is re-created and resumed from the last
block seen).

Example::

    import asyncio
    from ogpu.events import watch_task_status_changed

    async def follow(task):
        async for event in watch_task_status_changed(task, from_block=0, poll_interval=0.5):
            print(event.status.name, event.transaction_hash)
            if event.status.name == "FINALIZED":
                break

    asyncio.run(follow("0xTASK"))
"""

from __future__ import annotations

from ogpu.events._models import (
    AttemptedEvent,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
)
from ogpu.events._watchers import (
    watch_attempted,
    watch_registered,
    watch_response_status_changed,
    watch_response_submitted,
    watch_task_published,
    watch_task_status_changed,
)

__all__ = [
    "AttemptedEvent",
    "RegisteredEvent",
    "ResponseStatusChangedEvent",
    "ResponseSubmittedEvent",
    "TaskPublishedEvent",
    "TaskStatusChangedEvent",
    "watch_attempted",
    "watch_registered",
    "watch_response_status_changed",
    "watch_response_submitted",
    "watch_task_published",
    "watch_task_status_changed",
]
