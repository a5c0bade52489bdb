"""Compat path of the published ``ogpu.service.decorators``: use ``ogpu.service`` instead."""

from __future__ import annotations

from ogpu.service._registry import expose, init

__all__ = ["expose", "init"]
