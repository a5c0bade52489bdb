"""Deprecated: the 0.2.0.x module ``ogpu.client.chain_config``; see :mod:`ogpu.client._deprecated`."""

from __future__ import annotations

from typing import Any

from ogpu.client._deprecated import moved


def __getattr__(name: str) -> Any:
    return moved(__name__, name)
