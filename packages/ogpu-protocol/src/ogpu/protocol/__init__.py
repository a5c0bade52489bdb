"""The OpenGPU protocol: contract modules (nexus, controller, terminal, vault), instance
classes (Source, Task, Response, Provider, Master) and batched snapshots.

Submitting responses is deliberately absent: only a provider's source runtime submits.
"""

from __future__ import annotations

from ogpu.chain._address import ZERO_ADDRESS
from ogpu.chain.signer import Signer, resolve_signer
from ogpu.protocol import controller, nexus, terminal, vault
from ogpu.protocol._compat import REVERT_PATTERN_MAP, TxExecutor, load_contract
from ogpu.protocol._events import decode_event, event_topic
from ogpu.protocol._models import snapshot_all
from ogpu.protocol._reads import PAGE_SIZE, chain_time
from ogpu.protocol._revert import REVERT_REASONS, RevertContext, decode_revert
from ogpu.protocol._version import __version__
from ogpu.protocol.master import Master
from ogpu.protocol.provider import Provider
from ogpu.protocol.response import Response
from ogpu.protocol.source import Source
from ogpu.protocol.task import Task

__all__ = [
    "PAGE_SIZE",
    "REVERT_PATTERN_MAP",
    "REVERT_REASONS",
    "ZERO_ADDRESS",
    "Master",
    "Provider",
    "Response",
    "RevertContext",
    "Signer",
    "Source",
    "Task",
    "TxExecutor",
    "__version__",
    "chain_time",
    "controller",
    "decode_event",
    "decode_revert",
    "event_topic",
    "load_contract",
    "nexus",
    "resolve_signer",
    "snapshot_all",
    "terminal",
    "vault",
]
