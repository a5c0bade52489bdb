"""``python -m ogpu.cli``: the same as the ``ogpu`` command."""

from __future__ import annotations

import sys

from ogpu.cli._main import main

if __name__ == "__main__":
    sys.exit(main())
