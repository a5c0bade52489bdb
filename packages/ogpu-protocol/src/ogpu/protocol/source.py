"""Compatibility module: :class:`Source` (defined in ``ogpu.protocol._models``)."""

from __future__ import annotations

from ogpu.protocol._models import Source

__all__ = ["Source"]
