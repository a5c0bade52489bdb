"""Argument checks shared by the client workflows (raised before any I/O)."""

from __future__ import annotations

import math
from typing import Any

from ogpu.types import ValidationError

__all__ = ["check_seconds"]


def check_seconds(
    value: Any, argument: str, *, allow_none: bool = False, finite: bool = False
) -> None:
    """Raise :class:`ValidationError` unless ``value`` is a positive number of seconds.

    Bools, NaN and infinity are rejected (a deadline that never comes is no deadline: pass
    None where that is allowed); ``None`` passes when ``allow_none``. ``finite`` is kept for
    callers that say so explicitly; every bound is finite.
    """
    if value is None and allow_none:
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or not math.isfinite(value)
    ):
        hint = " (None means no bound)" if allow_none else ""
        raise ValidationError(
            f"{argument} must be a positive, finite number of seconds{hint}, got {value!r}"
        )
