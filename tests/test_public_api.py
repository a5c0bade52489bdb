"""The public surface is listed (``api/*.txt``) and every change to it is a reviewed line.

- each portion's public modules and names equal its ``api/<portion>.txt``;
- every module path and name of the published ``ogpu`` 0.2.3 still imports, or is listed in
  ``api/removed.txt`` with the reason;
- nothing in ``api/forbidden.txt`` (provider-runtime writes) is offered.

Regenerate the listings with ``make api`` (``python scripts/public_api.py --write``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("public_api", ROOT / "scripts/public_api.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


api = _load_script()


def test_every_portion_has_its_listing() -> None:
    names = {p.name for p in api.portions()}
    assert {"ogpu", "ogpu.ipfs", "ogpu.types", "ogpu.chain", "ogpu.protocol"} <= names
    assert {"ogpu.client", "ogpu.events", "ogpu.agent", "ogpu_devnet"} <= names


def test_public_surface_matches_the_listings() -> None:
    problems = api.surface_problems()
    assert not problems, (
        "\n".join(problems) + f"\nIf intended, regenerate with {api.REGENERATE} and commit "
        "the diff of api/ (each line is a reviewed addition or removal)."
    )


def test_published_0_2_3_surface_still_imports_or_is_listed_as_removed() -> None:
    assert len(api.read_entries(api.PUBLISHED)) > 300
    problems = api.published_problems()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("entry", list(api.read_entries(api.FORBIDDEN)))
def test_forbidden_names_are_not_offered(entry: str) -> None:
    assert api.read_entries(api.FORBIDDEN)[entry], f"api/forbidden.txt: no reason for {entry}"
    assert not api.is_offered(entry), (
        f"{entry} is offered: {api.read_entries(api.FORBIDDEN)[entry]}"
    )


def test_ipfs_compat_modules_stay_cheap() -> None:
    code = "import sys, ogpu.ipfs.fetch, ogpu.ipfs.publish; print('web3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
