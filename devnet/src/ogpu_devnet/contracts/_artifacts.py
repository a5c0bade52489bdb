"""Loading the committed, compiled contract artifacts (no compiler needed)."""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from importlib import resources
from typing import Any

from ogpu_devnet.errors import DevnetError

#: Names accepted by load_artifact.
CONTRACT_NAMES: tuple[str, ...] = (
    "Manager",
    "Source",
    "Task",
    "Response",
    "Vault",
    "Terminal",
    "Nexus",
    "Controller",
)


class UnknownContractError(DevnetError, KeyError):
    """load_artifact was asked for a contract the devnet does not ship."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown devnet contract {name!r}; known: {', '.join(CONTRACT_NAMES)}")

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("_artifacts.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def artifacts_meta() -> dict[str, Any]:
    """The artifacts' header: compiler, EVM version, command and source hashes."""
    return copy.deepcopy(_document()["_meta"])


def load_artifact(name: str) -> dict[str, Any]:
    """Return ``{"abi": [...], "bytecode": "0x..."}`` for one devnet contract.

    Per-entity contracts (Source, Task, Response) also carry
    ``"blueprint_bytecode"``: the ERC-5202 blueprint deployment code that
    Nexus and Controller instantiate with ``create_from_blueprint``. The
    returned dict is a fresh copy; mutating it does not affect later calls.

    Raises:
        UnknownContractError: ``name`` is not one of :data:`CONTRACT_NAMES`.
    """
    contracts: dict[str, Any] = _document()["contracts"]
    if name not in contracts:
        raise UnknownContractError(name)
    return copy.deepcopy(contracts[name])
