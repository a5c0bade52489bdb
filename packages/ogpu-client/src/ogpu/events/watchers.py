"""Compatibility module (published 0.2.3 path): the event watchers, now in :mod:`ogpu.events`."""

from __future__ import annotations

from ogpu.events._watchers import (
    watch_attempted,
    watch_registered,
    watch_response_status_changed,
    watch_response_submitted,
    watch_task_published,
    watch_task_status_changed,
)

__all__ = [
    "watch_attempted",
    "watch_registered",
    "watch_response_status_changed",
    "watch_response_submitted",
    "watch_task_published",
    "watch_task_status_changed",
]
