"""The compatibility surface of ogpu.client / ogpu.agent / ogpu.events (published 0.2.x names),
and the typed errors of the waits and watchers, raised before any I/O."""

from __future__ import annotations

import inspect

import pytest
from ogpu.client import (
    publish_source,
    publish_task,
    set_agent,
    update_source,
    wait_for_response,
    wait_for_status,
)
from ogpu.types import InvalidArgumentTypeError, TaskStatus, ValidationError

from ogpu import agent, client, events

ADDRESS = "0x" + "22" * 20
KEY = "0x" + "11" * 32

# Parameter names of the published ogpu 0.2.3 (users call them by keyword).
PUBLISHED = {
    publish_source: ["source_info", "private_key"],
    publish_task: [
        "task_info",
        "private_key",
        "ipfs_timeout",
        "ipfs_retries",
        "ipfs_backoff",
        "receipt_timeout",
        "total_timeout",
    ],
    update_source: ["source", "new_info", "private_key"],
    client.inactivate_source: ["source", "private_key"],
    client.cancel_task: ["task", "private_key"],
    client.confirm_response: ["response_address", "private_key"],
    set_agent: ["agent_address", "value", "private_key"],
    client.get_task_responses: ["task_address", "lower", "upper"],
    agent.register_to: ["source", "provider", "env", "private_key"],
    agent.unregister_from: ["source", "provider", "private_key"],
    agent.attempt: ["task", "provider", "suggested_payment", "private_key"],
    events.watch_task_published: ["source_address", "from_block", "poll_interval"],
    events.watch_registered: ["source_address", "from_block", "poll_interval"],
    events.watch_attempted: ["task_address", "from_block", "poll_interval"],
    events.watch_response_submitted: ["task_address", "from_block", "poll_interval"],
    events.watch_task_status_changed: ["task_address", "from_block", "poll_interval"],
    events.watch_response_status_changed: ["response_address", "from_block", "poll_interval"],
}


@pytest.mark.parametrize("function", list(PUBLISHED), ids=lambda f: f.__name__)
def test_parameter_names_match_the_published_sdk(function: object) -> None:
    assert list(inspect.signature(function).parameters) == PUBLISHED[function]  # type: ignore[index, arg-type]


def test_published_incidental_imports_still_work() -> None:
    from ogpu.client import (  # noqa: F401
        Receipt,
        Role,
        SourceParams,
        TaskExpiredError,
        TaskParams,
        publish_to_ipfs,
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda: wait_for_status(ADDRESS, TaskStatus.FINALIZED, timeout=0),
        lambda: wait_for_status(ADDRESS, TaskStatus.FINALIZED, poll_interval=-1),
        lambda: wait_for_status(ADDRESS, [], timeout=1),
        lambda: wait_for_status(ADDRESS, ["FINALIZED"], timeout=1),
        lambda: wait_for_status(ADDRESS, 3, timeout=1),
        lambda: wait_for_response(ADDRESS, timeout=True),
        lambda: wait_for_response("nope"),
        lambda: events.watch_task_published(ADDRESS, from_block=-1),
        lambda: events.watch_attempted(ADDRESS, from_block="latest"),
        lambda: events.watch_registered(ADDRESS, poll_interval=0),
        lambda: agent.register_to(ADDRESS, ADDRESS, "cpu", KEY),
        lambda: agent.register_to(ADDRESS, ADDRESS, 3, KEY),
        lambda: agent.attempt(ADDRESS, ADDRESS, -5, KEY),
    ],
)
def test_bad_arguments_raise_typed_errors_at_the_call(call: object) -> None:
    with pytest.raises((ValidationError, InvalidArgumentTypeError)) as info:
        call()  # type: ignore[operator]
    assert not isinstance(info.value, TypeError) or isinstance(info.value, InvalidArgumentTypeError)
