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

    Bools and NaN are rejected; ``None`` passes when ``allow_none``; infinity only when not
    ``finite``.
    """
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(f"{argument} must be a positive number of seconds, got {value!r}")
    if finite and not math.isfinite(value):
        raise ValidationError(f"{argument} must be a finite number of seconds, got {value!r}")
