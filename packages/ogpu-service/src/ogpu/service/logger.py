"""Compat path of the published ``ogpu.service.logger``: use ``ogpu.service.logger``'s methods.

``task_success``/``task_fail``/``task_timeout`` log on the service's logger at the custom
levels below, as the published module's functions did.
"""

from __future__ import annotations

from typing import Any

from ogpu.service._logging import FAIL_LEVEL, SUCCESS_LEVEL, TIMEOUT_LEVEL, logger

__all__ = [
    "FAIL_LEVEL",
    "SUCCESS_LEVEL",
    "TIMEOUT_LEVEL",
    "logger",
    "task_fail",
    "task_success",
    "task_timeout",
]


def task_success(message: object, *args: Any, **kwargs: Any) -> None:
    """Log a task that succeeded (level ``SUCCESS_LEVEL``)."""
    logger.task_success(message, *args, **kwargs)


def task_fail(message: object, *args: Any, **kwargs: Any) -> None:
    """Log a task that failed (level ``FAIL_LEVEL``)."""
    logger.task_fail(message, *args, **kwargs)


def task_timeout(message: object, *args: Any, **kwargs: Any) -> None:
    """Log a task that timed out (level ``TIMEOUT_LEVEL``)."""
    logger.task_timeout(message, *args, **kwargs)
