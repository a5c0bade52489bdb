"""Compatibility module (published 0.2.3 path): the event records, now in :mod:`ogpu.events`."""

from __future__ import annotations

from ogpu.events._models import (
    AttemptedEvent,
    RegisteredEvent,
    ResponseStatusChangedEvent,
    ResponseSubmittedEvent,
    TaskPublishedEvent,
    TaskStatusChangedEvent,
)

__all__ = [
    "AttemptedEvent",
    "RegisteredEvent",
    "ResponseStatusChangedEvent",
    "ResponseSubmittedEvent",
    "TaskPublishedEvent",
    "TaskStatusChangedEvent",
]
