"""Compatibility module (published 0.2.3 path): :func:`publish_to_ipfs`, now in :mod:`ogpu.ipfs`.

``logger`` is the same ``ogpu.ipfs`` logger the uploads log to.
"""

from __future__ import annotations

from ogpu.ipfs._publish import logger, publish_to_ipfs

__all__ = ["logger", "publish_to_ipfs"]
