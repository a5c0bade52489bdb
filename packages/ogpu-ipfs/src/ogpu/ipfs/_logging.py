"""The ``ogpu`` logger: silent by default (NullHandler), verbose on request."""

from __future__ import annotations

import logging
import os
import sys

_ROOT = logging.getLogger("ogpu")
_handler: logging.Handler | None = None
_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)s %(name)s: %(message)s"


def set_verbose(enabled: bool = True, level: int = logging.DEBUG) -> None:
    """Attach (or with ``enabled=False`` remove) a stderr handler on the ``ogpu`` logger.

    Example::

        import ogpu.ipfs
        ogpu.ipfs.set_verbose()            # DEBUG lines with millisecond timestamps
        ogpu.ipfs.set_verbose(False)       # silent again
    """
    global _handler
    if _handler is not None:
        _ROOT.removeHandler(_handler)
        _handler = None
    if enabled:
        _handler = logging.StreamHandler(sys.stderr)
        _handler.setFormatter(logging.Formatter(_FORMAT, datefmt="%H:%M:%S"))
        _ROOT.addHandler(_handler)
        _ROOT.setLevel(level)
    else:
        _ROOT.setLevel(logging.NOTSET)


def _install() -> None:
    if not any(isinstance(h, logging.NullHandler) for h in _ROOT.handlers):
        _ROOT.addHandler(logging.NullHandler())
    if os.environ.get("OGPU_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on"):
        set_verbose(True)
