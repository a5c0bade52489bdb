"""The import paths of the published 0.2.0.x that 0.2.1 removed without a shim, kept working.

Source and client repositories written for ``ogpu`` 0.2.0.x import, e.g.,
``from ogpu.client import ChainConfig, ChainId`` or ``from ogpu.client.types import TaskInfo``;
0.2.1 moved those names (to ``ogpu.chain``, ``ogpu.types``, ...) and the old paths raised
ImportError. Here each old path gives the same object as the new one, with a
``DeprecationWarning`` naming the new path (attribute by attribute, PEP 562, so the warning
points at the importing line).

Not shimmed, because no object of ours behaves like theirs: ``ContractManager``,
``NexusContract``, ``load_contract`` and the other contract helpers (``ogpu.client.contracts``,
``ogpu.client.utils``), ``ogpu.client.config``, and ``ogpu.client.types.Response`` /
``ImageMetadata``. ``get_confirmed_response`` and ``ConfirmedResponse`` are rebuilt: 0.2.0.x
asked OGPU's management backend; this reads the chain (the same address and data).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: old module -> {name: new module}
MOVED: dict[str, dict[str, str]] = {
    "ogpu.client": {
        **dict.fromkeys(
            (
                "ChainConfig",
                "ChainId",
                "fix_nonce",
                "reset_nonce_cache",
                "clear_all_nonce_caches",
                "get_nonce_info",
            ),
            "ogpu.chain",
        ),
        "ConfirmedResponse": "ogpu.client._deprecated",
        "get_confirmed_response": "ogpu.client._deprecated",
    },
    "ogpu.client.chain_config": dict.fromkeys(("ChainConfig", "ChainId"), "ogpu.chain"),
    "ogpu.client.nonce_utils": dict.fromkeys(
        ("fix_nonce", "reset_nonce_cache", "clear_all_nonce_caches", "get_nonce_info"),
        "ogpu.chain",
    ),
    "ogpu.client.nonce_manager": {"NonceManager": "ogpu.chain"},
    "ogpu.client.web3_manager": dict.fromkeys(
        ("Web3Manager", "WEB3", "get_web3_for_chain"), "ogpu.chain"
    ),
    "ogpu.client.environment": dict.fromkeys(
        ("Environment", "combine_environments", "parse_environments", "environment_names"),
        "ogpu.types",
    ),
    "ogpu.client.types": {
        **dict.fromkeys(
            (
                "DeliveryMethod",
                "SourceParams",
                "TaskParams",
                "ImageEnvironments",
                "SourceInfo",
                "TaskInput",
                "TaskInfo",
            ),
            "ogpu.types",
        ),
        "ConfirmedResponse": "ogpu.client._deprecated",
    },
    "ogpu.client.source": {"publish_source": "ogpu.client"},
    "ogpu.client.task": {"publish_task": "ogpu.client"},
    "ogpu.client.responses": {
        "get_task_responses": "ogpu.client",
        "confirm_response": "ogpu.client",
        "get_confirmed_response": "ogpu.client._deprecated",
    },
    "ogpu.client.utils": {"publish_to_ipfs": "ogpu.ipfs"},
    "ogpu.agent.terminal": {"set_agent": "ogpu.client"},
}


def moved(module: str, name: str, names: Mapping[str, str] | None = None) -> Any:
    """Resolve ``module.name`` through :data:`MOVED`, warning; AttributeError if unknown."""
    table = MOVED.get(module, {}) if names is None else names
    new = table.get(name)
    if new is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    shown = "ogpu.client" if new == "ogpu.client._deprecated" else new
    warnings.warn(
        f"{module}.{name} is deprecated (moved in ogpu 0.2.1); import it from {shown}"
        + (" (it now reads the chain)" if name == "get_confirmed_response" else ""),
        DeprecationWarning,
        stacklevel=3,
    )
    return getattr(importlib.import_module(new), name)


@dataclass(frozen=True)
class ConfirmedResponse:
    """0.2.0.x's confirmed response: its address and its data (the IPFS URL on chain)."""

    address: str
    data: str

    def to_dict(self) -> dict[str, str]:
        """``{"address": ..., "data": ...}``, as 0.2.0.x."""
        return {"address": self.address, "data": self.data}


def get_confirmed_response(task_address: str) -> ConfirmedResponse:
    """0.2.0.x's ``get_confirmed_response(task)``, read from the chain.

    Raises :class:`ogpu.types.NotFoundError` when the task has no confirmed response.
    Prefer ``Task.load(address).get_confirmed_response()`` (or ``wait_for_response``).
    """
    from ogpu.protocol import Task
    from ogpu.types import NotFoundError

    response = Task.load(task_address).get_confirmed_response()
    if response is None:
        raise NotFoundError(f"task {task_address} has no confirmed response")
    return ConfirmedResponse(address=response.address, data=response.get_data())
