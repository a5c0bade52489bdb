"""Compatibility module: :class:`Provider` (defined in ``ogpu.protocol._models``)."""

from __future__ import annotations

from ogpu.protocol._models import Provider

__all__ = ["Provider"]
