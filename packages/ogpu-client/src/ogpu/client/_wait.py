"""Synchronous waits: "publish, wait, read the payload" without writing a polling loop."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from ogpu.chain import to_checksum
from ogpu.client._checks import check_seconds
from ogpu.client._errors import TaskClosedError, WaitTimeoutError
from ogpu.protocol import Response, Task
from ogpu.types import InvalidArgumentTypeError, TaskStatus

logger = logging.getLogger("ogpu.client")

_CLOSED = frozenset({TaskStatus.CANCELED, TaskStatus.EXPIRED})


def _as_task(task: Task | str) -> Task:
    return task if isinstance(task, Task) else Task(to_checksum(task, argument="task"))


def _check_statuses(statuses: Any) -> frozenset[TaskStatus]:
    items = [statuses] if isinstance(statuses, TaskStatus) else statuses
    try:
        wanted = frozenset(items)
    except TypeError:
        raise InvalidArgumentTypeError(
            "statuses", "a TaskStatus or an iterable of them", type(statuses).__name__
        ) from None
    if not wanted or not all(isinstance(s, TaskStatus) for s in wanted):
        raise InvalidArgumentTypeError(
            "statuses", "a TaskStatus or a non-empty iterable of them", repr(statuses)
        )
    return wanted


def wait_for_status(
    task: Task | str,
    statuses: TaskStatus | Iterable[TaskStatus],
    *,
    timeout: float = 120.0,
    poll_interval: float = 1.0,
) -> TaskStatus:
    """Poll ``task`` until its status is one of ``statuses``; return that status.

    One ``eth_call`` per poll. Status changes are logged at INFO on the
    ``ogpu.client`` logger. Raises :class:`WaitTimeoutError` after ``timeout``
    seconds.

    Example::

        status = wait_for_status(task, {TaskStatus.FINALIZED, TaskStatus.RESPONDED}, timeout=60)
    """
    wanted = _check_statuses(statuses)
    check_seconds(timeout, "timeout")
    check_seconds(poll_interval, "poll_interval")
    target = _as_task(task)
    deadline = time.monotonic() + timeout
    last: TaskStatus | None = None
    names = ", ".join(sorted(s.name for s in wanted))
    while True:
        status = TaskStatus(target.get_status())
        if status != last:
            logger.info("task %s is %s (waiting for %s)", target.address, status.name, names)
            last = status
        if status in wanted:
            return status
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WaitTimeoutError(target.address, timeout, status.name)
        time.sleep(min(poll_interval, remaining))


def wait_for_response(
    task: Task | str,
    *,
    timeout: float = 120.0,
    poll_interval: float = 1.0,
    confirmed: bool = True,
) -> Response:
    """Wait until ``task`` has a response and return it.

    With ``confirmed=True`` (default) this returns the confirmed response, i.e.
    waits for the task to be FINALIZED (immediately after the first response on a
    FIRST_RESPONSE source; after :func:`confirm_response` on a MANUAL_CONFIRMATION
    one). With ``confirmed=False`` it returns the first submitted response, which
    is what a MANUAL_CONFIRMATION client inspects before confirming.

    Raises :class:`WaitTimeoutError` after ``timeout`` seconds and
    :class:`TaskClosedError` as soon as the task is CANCELED or EXPIRED.

    Example::

        task = publish_task(info)
        payload = wait_for_response(task, timeout=60).fetch_data()
    """
    check_seconds(timeout, "timeout")
    check_seconds(poll_interval, "poll_interval")
    target = _as_task(task)
    accept = (
        {TaskStatus.FINALIZED, *_CLOSED}
        if confirmed
        else {TaskStatus.RESPONDED, TaskStatus.FINALIZED, *_CLOSED}
    )
    started = time.monotonic()
    status = wait_for_status(target, accept, timeout=timeout, poll_interval=poll_interval)
    if status in _CLOSED:
        raise TaskClosedError(target.address, status.name)
    if status == TaskStatus.FINALIZED:
        response = target.get_confirmed_response()
    else:
        responses = target.get_responses()
        response = responses[0] if responses else None
    if response is None:  # status and response list read at different blocks; poll once more
        remaining = timeout - (time.monotonic() - started)
        if remaining <= 0:
            raise WaitTimeoutError(target.address, timeout, status.name)
        time.sleep(min(poll_interval, remaining))
        return wait_for_response(
            target, timeout=remaining, poll_interval=poll_interval, confirmed=confirmed
        )
    logger.info("task %s answered by response %s", target.address, response.address)
    return response
