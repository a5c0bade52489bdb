"""Compatibility module: :class:`Master` (defined in ``ogpu.protocol._models``)."""

from __future__ import annotations

from ogpu.protocol._models import Master

__all__ = ["Master"]
