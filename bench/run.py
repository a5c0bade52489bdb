"""Run every benchmark (``make bench``): each ``bench/bench_*.py`` in its own process.

Benchmarks print their own report; numbers come from one run and are compared as
ratios against the published ``ogpu`` 0.2.3 where that makes sense. Nothing here
asserts a timing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    failed = []
    for script in sorted(here.glob("bench_*.py")):
        print(f"\n=== {script.name} ===", flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=here.parent) != 0:
            failed.append(script.name)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
