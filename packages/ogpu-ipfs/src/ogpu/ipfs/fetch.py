"""Compatibility module (published 0.2.3 path): :func:`fetch_ipfs_json`, now in :mod:`ogpu.ipfs`.

``logger`` is the same ``ogpu.ipfs`` logger the fetches log to.
"""

from __future__ import annotations

from ogpu.ipfs._fetch import fetch_ipfs_json, logger

__all__ = ["fetch_ipfs_json", "logger"]
