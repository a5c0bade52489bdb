"""Errors ogpu.client adds to the tree of :mod:`ogpu.types`."""

from __future__ import annotations

from ogpu.types import OGPUError, StateError


class WaitTimeoutError(OGPUError, TimeoutError):
    """A wait (:func:`wait_for_status`, :func:`wait_for_response`) ran out of time.

    Attributes:
        task: address of the task waited on.
        timeout: the budget in seconds.
        last_status: the task's status at the last poll (its name), or "" if never read.
    """

    def __init__(self, task: str, timeout: float, last_status: str = "") -> None:
        self.task = task
        self.timeout = timeout
        self.last_status = last_status
        super().__init__(task, timeout, last_status)

    def __str__(self) -> str:
        tail = f" (last status {self.last_status})" if self.last_status else ""
        return f"task {self.task} did not reach the awaited state within {self.timeout} s{tail}"


class TaskClosedError(StateError):
    """The task ended (CANCELED or EXPIRED) without the response being waited for.

    Attributes:
        task: the task's address.
        status: the final status's name.
    """

    def __init__(self, task: str, status: str) -> None:
        self.task = task
        self.status = status
        super().__init__(f"task {task} is {status}; no response will come")
