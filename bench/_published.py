"""A separate venv with the published ``ogpu`` 0.2.3, for comparison benchmarks only.

The published SDK is never imported into the workspace: it lives in its own venv under
``.bench/`` and is only ever run in subprocesses.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / ".bench"
PUBLISHED_VERSION = "0.2.3"


def venv_python(venv_dir: Path) -> Path:
    """Return the interpreter path of the venv at ``venv_dir``."""
    if sys.platform == "win32":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def ensure_venv(venv_dir: Path, *pip_args: str) -> Path:
    """Create ``venv_dir`` (idempotently) and ``pip install *pip_args`` into it once.

    A stamp file records the install arguments; a venv whose stamp matches is reused.
    """
    python = venv_python(venv_dir)
    stamp = venv_dir / ".installed"
    wanted = "\n".join(pip_args)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pip_args],
        check=True,
    )
    stamp.write_text(wanted)
    return python


def published_python() -> Path:
    """Return the python of ``.bench/published-ogpu-0.2.3`` (``pip install ogpu==0.2.3``)."""
    return ensure_venv(
        BENCH_DIR / f"published-ogpu-{PUBLISHED_VERSION}", f"ogpu=={PUBLISHED_VERSION}"
    )


if __name__ == "__main__":
    print(published_python())
