"""The agent's three writes, each one Nexus call signed by the agent."""

from __future__ import annotations

import logging
from typing import Any

from ogpu.chain import check_amount, resolve_signer, to_checksum
from ogpu.protocol import Source, Task, nexus
from ogpu.types import (
    Environment,
    InvalidArgumentTypeError,
    Receipt,
    Role,
    ValidationError,
)

logger = logging.getLogger("ogpu.agent")


def register_to(
    source: Source | str,
    provider: str,
    env: Environment | int,
    private_key: str | None = None,
) -> Receipt:
    """Register ``provider`` to ``source`` for one environment (``Nexus.register``).

    The signer (``private_key`` or ``AGENT_PRIVATE_KEY``) must be an agent of the
    provider's master (or the master or provider itself).
    """
    src = to_checksum(source, argument="source")
    prov = to_checksum(provider, argument="provider")
    mask = _environment(env)
    account = _agent(private_key)
    receipt = nexus.register(src, prov, mask, signer=account)
    logger.info("agent %s registered %s to %s (tx %s)", account.address, prov, src, receipt.tx_hash)
    return receipt


def unregister_from(source: Source | str, provider: str, private_key: str | None = None) -> Receipt:
    """Remove ``provider`` from ``source``'s registrants (``Nexus.unregister``)."""
    src = to_checksum(source, argument="source")
    prov = to_checksum(provider, argument="provider")
    account = _agent(private_key)
    receipt = nexus.unregister(src, prov, signer=account)
    logger.info(
        "agent %s unregistered %s from %s (tx %s)", account.address, prov, src, receipt.tx_hash
    )
    return receipt


def attempt(
    task: Task | str, provider: str, suggested_payment: int, private_key: str | None = None
) -> Receipt:
    """Attempt ``task`` for ``provider`` (``Nexus.attempt``) with a suggested payment in wei.

    On an already expired task the chain marks it EXPIRED and records no attempt.
    """
    tsk = to_checksum(task, argument="task")
    prov = to_checksum(provider, argument="provider")
    check_amount(suggested_payment, argument="suggested_payment")
    account = _agent(private_key)
    receipt = nexus.attempt(tsk, prov, suggested_payment, signer=account)
    logger.info("agent %s attempted %s for %s (tx %s)", account.address, tsk, prov, receipt.tx_hash)
    return receipt


def _environment(env: Any) -> int:
    """``env`` as one Environment flag's int value; typed errors for anything else."""
    if isinstance(env, bool) or not isinstance(env, int):
        raise InvalidArgumentTypeError("env", "an Environment (or its int value)", repr(env))
    known = int(Environment.CPU) | int(Environment.NVIDIA) | int(Environment.AMD)
    if env <= 0 or env & ~known or env & (env - 1):
        raise ValidationError(f"env must be exactly one of CPU, NVIDIA, AMD; got {env!r}")
    return int(env)


def _agent(private_key: Any) -> Any:
    return resolve_signer(private_key, Role.AGENT)
