"""Compat path of the published ``ogpu.service.server``: ``start`` (use ``ogpu.service.start``).

The published module's ``lifespan`` and ``send_callback`` were internals of its FastAPI app;
they are not offered (see api/removed.txt).
"""

from __future__ import annotations

from ogpu.service._server import start

__all__ = ["start"]
