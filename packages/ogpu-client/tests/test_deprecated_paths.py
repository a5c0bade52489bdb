"""0.2.0.x import paths (removed by the published 0.2.1 without a shim) import the same objects,
with a DeprecationWarning naming the new path."""

from __future__ import annotations

import importlib
import subprocess
import sys

import ogpu.chain
import ogpu.client
import ogpu.ipfs
import ogpu.types
import pytest
from ogpu.client._deprecated import MOVED


def test_from_ogpu_client_import_chain_config_and_chain_id() -> None:
    with pytest.warns(DeprecationWarning, match=r"ogpu\.client\.ChainConfig .* from ogpu\.chain"):
        from ogpu.client import ChainConfig
    with pytest.warns(DeprecationWarning, match=r"from ogpu\.chain"):
        from ogpu.client import ChainId
    assert ChainConfig is ogpu.chain.ChainConfig and ChainId is ogpu.chain.ChainId


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in MOVED.items() for n in names])
def test_every_old_path_gives_the_new_object(module: str, name: str) -> None:
    new = MOVED[module][name]
    with pytest.warns(DeprecationWarning) as record:
        value = getattr(importlib.import_module(module), name)
    (warning,) = [w for w in record if issubclass(w.category, DeprecationWarning)]
    assert f"{module}.{name} is deprecated" in str(warning.message)
    assert warning.filename == __file__  # points at the importing line, not at the shim
    assert value is getattr(importlib.import_module(new), name)


def test_unknown_names_are_still_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="no attribute 'publish_taks'"):
        ogpu.client.publish_taks  # noqa: B018
    with pytest.raises(ImportError):
        from ogpu.client.chain_config import load_contract  # noqa: F401


def test_the_warning_is_visible_with_default_filters() -> None:
    code = "import warnings; warnings.simplefilter('default')\nfrom ogpu.client import ChainId"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0
    assert "<string>:2: DeprecationWarning: ogpu.client.ChainId is deprecated" in result.stderr
    assert "import it from ogpu.chain" in result.stderr
