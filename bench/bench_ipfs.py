"""ogpu-ipfs alone vs the published ogpu 0.2.3: cold import, installed footprint, fetch rate.

Run with the workspace venv (``make bench`` or ``.venv/bin/python bench/bench_ipfs.py``).
Each SDK lives in its own venv under ``.bench/`` and runs only in subprocesses:

- ``.bench/ogpu-ipfs-only``: the ogpu-ipfs wheel built from this tree (+ requests).
- ``.bench/published-ogpu-0.2.3``: ``pip install ogpu==0.2.3``.

Aims (issue 2): import time <= 0.15x, footprint <= 0.05x of the published SDK.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _published import BENCH_DIR, ROOT, ensure_venv, published_python

IMPORT_RUNS = 9
FETCHES = 300
_TOOLING = ("pip", "setuptools", "_distutils_hack", "wheel", "pkg_resources")


def ours_python() -> Path:
    """Build the ogpu-ipfs wheel and install it alone into ``.bench/ogpu-ipfs-only``."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
             "-w", tmp, str(ROOT / "packages" / "ogpu-ipfs")],
            check=True,
        )  # fmt: skip
        (wheel,) = Path(tmp).glob("ogpu_ipfs-*.whl")
        python = ensure_venv(
            BENCH_DIR / "ogpu-ipfs-only", "-c", str(ROOT / "constraints.txt"), "requests"
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "--force-reinstall", "--no-deps", str(wheel)],
            check=True,
        )  # fmt: skip
    return python


def best_wall(python: Path, code: str, runs: int = IMPORT_RUNS) -> float:
    """Best wall-clock seconds of ``python -c code`` in a fresh process (after one warm-up)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OGPU_", "PYTHON"))}
    best = float("inf")
    for i in range(runs + 1):
        start = time.perf_counter()
        subprocess.run([str(python), "-c", code], check=True, env=env, cwd=BENCH_DIR)
        elapsed = time.perf_counter() - start
        if i:  # the first run writes bytecode caches
            best = min(best, elapsed)
    return best


def footprint(python: Path) -> tuple[int, int]:
    """(bytes under site-packages, distributions) of a venv, pip/setuptools excluded."""
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )  # fmt: skip
    total = 0
    dists = 0
    for entry in site.iterdir():
        name = entry.name.split("-", 1)[0].lower()
        if name in _TOOLING or entry.name.startswith(("pip", "setuptools", "_distutils_hack")):
            continue
        if entry.name.endswith(".dist-info"):
            dists += 1
        files = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        total += sum(p.stat().st_size for p in files)
    return total, dists


FETCH_CODE = """
import sys, time
from {module} import fetch_ipfs_json
url, n = sys.argv[1], int(sys.argv[2])
kwargs = {kwargs}
fetch_ipfs_json(url, **kwargs)
start = time.perf_counter()
for _ in range(n):
    fetch_ipfs_json(url, **kwargs)
print(n / (time.perf_counter() - start))
"""


def fetch_rate(python: Path, module: str, kwargs: str, url: str) -> float:
    """Sequential fetches per second of one small JSON document."""
    code = FETCH_CODE.format(module=module, kwargs=kwargs)
    out = subprocess.run(
        [str(python), "-c", code, url, str(FETCHES)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


def main() -> int:
    """Print the report; returns 0."""
    from ogpu_devnet.ipfs import MockPinningService

    ours = ours_python()
    published = published_python()
    base_ours = best_wall(ours, "pass")
    base_pub = best_wall(published, "pass")
    imp_ours = best_wall(ours, "import ogpu.ipfs")
    imp_pub = best_wall(published, "import ogpu.ipfs")
    imp_pub_top = best_wall(published, "from ogpu import fetch_ipfs_json")
    size_ours, dists_ours = footprint(ours)
    size_pub, dists_pub = footprint(published)
    with MockPinningService() as svc:
        cid = svc.add(b'{"result": "cat", "confidence": 0.97}', "application/json")
        url = f"{svc.gateway_url}/{cid}"
        rate_ours = fetch_rate(ours, "ogpu.ipfs", "{'cache': False}", url)
        rate_ours_cached = fetch_rate(ours, "ogpu.ipfs", "{}", url)
        rate_pub = fetch_rate(published, "ogpu", "{}", url)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:7.1f} ms"

    print("ogpu-ipfs (alone, from the wheel) vs published ogpu 0.2.3, each in its own venv")
    print(f"  cold import, best of {IMPORT_RUNS} fresh processes (wall clock, incl. startup):")
    print(
        f"    python -c pass                      ours {ms(base_ours)}   published {ms(base_pub)}"
    )
    print(f"    import ogpu.ipfs                    ours {ms(imp_ours)}   published {ms(imp_pub)}")
    print(f"    from ogpu import fetch_ipfs_json    published {ms(imp_pub_top)}")
    net_ours = max(imp_ours - base_ours, 1e-4)
    net_pub = imp_pub - base_pub
    print(f"    import only (minus startup)         ours {ms(net_ours)}   published {ms(net_pub)}")
    print(f"    ratio (wall clock)                  {imp_ours / imp_pub:.3f}x   (aim <= 0.15x)")
    print(f"    ratio (import only)                 {net_ours / net_pub:.3f}x")
    print("  installed footprint (site-packages, pip/setuptools excluded):")
    print(f"    ours      {size_ours / 1e6:8.2f} MB in {dists_ours} distributions")
    print(f"    published {size_pub / 1e6:8.2f} MB in {dists_pub} distributions")
    print(f"    ratio     {size_ours / size_pub:.3f}x   (aim <= 0.05x)")
    print(f"  fetch of a small JSON from the mock service, {FETCHES} sequential GETs:")
    print(f"    ours (cache off) {rate_ours:8.0f} req/s   published {rate_pub:8.0f} req/s")
    print(
        f"    ratio            {rate_ours / rate_pub:.2f}x   (ours with cache: {rate_ours_cached:.0f}/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
