"""OpenGPU Python SDK (the ``ogpu`` meta-package).

The SDK is split into separately installable distributions sharing the
``ogpu`` namespace:

- ``ogpu.ipfs`` (ogpu-ipfs): publish and fetch off-chain content.
- ``ogpu.types``, ``ogpu.chain``, ``ogpu.protocol`` (ogpu-protocol): chain
  configuration, transactions and read models.
- ``ogpu.client``, ``ogpu.agent``, ``ogpu.events`` (ogpu-client): publishing
  workflows, agent calls and event watchers.
- ``ogpu.service`` (ogpu-service, ``pip install "ogpu[service]"``): the source
  developer's framework (a web server; never imported by the others).

This module re-exports the most used names lazily (PEP 562), so that
``import ogpu.ipfs`` never loads web3 even with everything installed.
"""

from __future__ import annotations

# First statement: let the other distributions' ``ogpu/`` portions (editable
# installs put each one on its own sys.path entry) join this package.
__path__ = __import__("pkgutil").extend_path(__path__, __name__)

import importlib
from typing import TYPE_CHECKING, Any

from ogpu._version import __version__

if TYPE_CHECKING:
    from ogpu.chain import (
        ChainConfig,
        ChainId,
        clear_all_nonce_caches,
        fix_nonce,
        get_nonce_info,
        reset_nonce_cache,
    )
    from ogpu.ipfs import fetch_ipfs_json, publish_to_ipfs, set_verbose

# name -> the portion that owns it
_EXPORTS: dict[str, str] = {
    "publish_to_ipfs": "ogpu.ipfs",
    "fetch_ipfs_json": "ogpu.ipfs",
    "set_verbose": "ogpu.ipfs",
    "ChainConfig": "ogpu.chain",
    "ChainId": "ogpu.chain",
    "fix_nonce": "ogpu.chain",
    "reset_nonce_cache": "ogpu.chain",
    "clear_all_nonce_caches": "ogpu.chain",
    "get_nonce_info": "ogpu.chain",
}
_SUBPACKAGES = frozenset(
    {"ipfs", "types", "chain", "protocol", "client", "agent", "events", "service"}
)


def __getattr__(name: str) -> Any:
    owner = _EXPORTS.get(name)
    if owner is not None:
        value = getattr(importlib.import_module(owner), name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | _SUBPACKAGES)


__all__ = [
    "ChainConfig",
    "ChainId",
    "__version__",
    "clear_all_nonce_caches",
    "fetch_ipfs_json",
    "fix_nonce",
    "get_nonce_info",
    "publish_to_ipfs",
    "reset_nonce_cache",
    "set_verbose",
]
