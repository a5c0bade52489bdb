"""A provider runtime in a process of its own, for the kill-and-restart fault.

Usage: ``python _provider_process.py MANIFEST SOURCE MARKER_DIR MODE`` where MODE is
``hang`` (the handler writes MARKER_DIR/started, then blocks: the test kills the process
there, mid-task) or ``work`` (the handler answers). Prints one JSON line with the
providers' addresses once registered, then serves until killed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main() -> None:
    manifest, source, marker_dir, mode = sys.argv[1:5]
    from ogpu_devnet.provider import start_providers

    def handler(input_data: dict[str, Any]) -> dict[str, Any]:
        if mode == "hang":
            (Path(marker_dir) / "started").write_text("1")
            time.sleep(600)
        return {"echo": input_data, "by": mode}

    group = start_providers(
        manifest, handler, sources=[source], poll_interval=0.05, handler_timeout=700
    )
    print(json.dumps({"providers": group.providers}), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
