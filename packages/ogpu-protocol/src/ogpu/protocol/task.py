"""Compatibility module: :class:`Task` (defined in ``ogpu.protocol._models``)."""

from __future__ import annotations

from ogpu.protocol._models import Task

__all__ = ["Task"]
