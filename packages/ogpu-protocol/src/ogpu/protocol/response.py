"""Compatibility module: :class:`Response` (defined in ``ogpu.protocol._models``)."""

from __future__ import annotations

from ogpu.protocol._models import Response

__all__ = ["Response"]
