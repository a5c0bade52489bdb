"""Workload 1: cold import and installed footprint, each SDK in its own venv under ``.bench/``.

- ``.bench/ogpu-ipfs-only``: the ogpu-ipfs wheel built from this tree (+ requests);
- ``.bench/ogpu-client``: the ogpu-ipfs, ogpu-protocol and ogpu-client wheels (+ their
  dependencies at the versions of constraints.txt);
- ``.bench/published-ogpu-0.2.3``: ``pip install ogpu==0.2.3``.

Each import runs in a fresh interpreter (``python -c``), after one warm-up that writes the
bytecode caches; the median wall clock includes the interpreter's start-up (what a user waits
for), the start-up alone (``python -c pass``) is reported beside it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _published import BENCH_DIR, ROOT, ensure_venv, published_python

_TOOLING = ("pip", "setuptools", "_distutils_hack", "wheel", "pkg_resources")


def _wheels(tmp: str, *dists: str) -> list[str]:
    for dist in dists:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             "-w", tmp, str(ROOT / "packages" / dist)],
            check=True,
        )  # fmt: skip
    return sorted(str(p) for p in Path(tmp).glob("*.whl"))


def ours_venv(name: str, dists: tuple[str, ...], deps: tuple[str, ...]) -> Path:
    """Build the wheels of ``dists`` from this tree and install them into ``.bench/NAME``."""
    with tempfile.TemporaryDirectory() as tmp:
        wheels = _wheels(tmp, *dists)
        python = ensure_venv(BENCH_DIR / name, "-c", str(ROOT / "constraints.txt"), *deps)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "--force-reinstall", "--no-deps", *wheels],
            check=True,
        )  # fmt: skip
    return python


def median_wall(python: Path, code: str, runs: int) -> tuple[float, list[float]]:
    """Median wall seconds of ``python -c code`` in fresh processes (after one warm-up)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OGPU_", "PYTHON"))}
    samples = []
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([str(python), "-c", code], check=True, env=env, cwd=BENCH_DIR)
        if i:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def footprint(python: Path) -> tuple[int, int]:
    """(bytes under site-packages, distributions) of a venv, pip/setuptools excluded."""
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    total = dists = 0
    for entry in site.iterdir():
        name = entry.name.split("-", 1)[0].lower()
        if name in _TOOLING or entry.name.startswith(("pip", "setuptools", "_distutils_hack")):
            continue
        if entry.name.endswith(".dist-info"):
            dists += 1
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files)
    return total, dists


def run(runs: int) -> list[dict[str, Any]]:
    """Rows of workload 1."""
    ipfs_only = ours_venv("ogpu-ipfs-only", ("ogpu-ipfs",), ("requests",))
    client = ours_venv(
        "ogpu-client",
        ("ogpu-ipfs", "ogpu-protocol", "ogpu-client"),
        ("requests", "web3", "eth-account", "eth-abi"),
    )
    published = published_python()
    rows: list[dict[str, Any]] = []
    startup = {
        "ours": median_wall(ipfs_only, "pass", runs)[0],
        "theirs": median_wall(published, "pass", runs)[0],
    }
    for name, ours_py, ours_code, theirs_code, target in (
        ("cold import: IPFS helpers", ipfs_only, "import ogpu.ipfs",
         "from ogpu import fetch_ipfs_json", 0.15),
        ("cold import: client", client, "import ogpu.client", "import ogpu.client", None),
    ):  # fmt: skip
        ours_s, ours_runs = median_wall(ours_py, ours_code, runs)
        theirs_s, theirs_runs = median_wall(published, theirs_code, runs)
        ratio = ours_s / theirs_s
        rows.append(
            {
                "workload": "1",
                "name": name,
                "unit": "s",
                "ours": {"call": ours_code, "seconds": ours_s, "runs": ours_runs},
                "theirs": {"call": theirs_code, "seconds": theirs_s, "runs": theirs_runs},
                "ratio": {"seconds": ratio},
                "interpreter_startup": startup,
                "target": f"time ratio <= {target}" if target else "none (reported)",
                "met": (ratio <= target) if target else None,
            }
        )
    for name, ours_py in (("installed footprint: IPFS helpers", ipfs_only),
                          ("installed footprint: client", client)):  # fmt: skip
        ours_b, ours_d = footprint(ours_py)
        theirs_b, theirs_d = footprint(published)
        rows.append(
            {
                "workload": "1",
                "name": name,
                "unit": "bytes",
                "ours": {"bytes": ours_b, "distributions": ours_d},
                "theirs": {"bytes": theirs_b, "distributions": theirs_d},
                "ratio": {"bytes": ours_b / theirs_b},
                "target": "none (reported)",
                "met": None,
            }
        )
    return rows
