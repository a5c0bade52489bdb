"""The events the watchers yield: frozen dataclasses, one per Nexus event."""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress
from ogpu.protocol import Response, Source, Task
from ogpu.types import ResponseStatus, TaskStatus


@dataclass(frozen=True)
class TaskPublishedEvent:
    """``TaskPublished(task, source)``: a client published ``task`` on ``source``."""

    task: Task
    source: Source
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class AttemptedEvent:
    """``Attempted(task, provider, suggestedPayment)``: a provider took a task."""

    task: Task
    provider: ChecksumAddress
    suggested_payment: int
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class ResponseSubmittedEvent:
    """``ResponseSubmitted(response, task)``: a provider answered ``task``."""

    response: Response
    task: Task
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class ResponseStatusChangedEvent:
    """``ResponseStatusChanged(response, status)``, e.g. SUBMITTED -> CONFIRMED."""

    response: Response
    status: ResponseStatus
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class TaskStatusChangedEvent:
    """``TaskStatusChanged(task, status)``, e.g. NEW -> ATTEMPTED -> FINALIZED."""

    task: Task
    status: TaskStatus
    block_number: int
    transaction_hash: str
    log_index: int


@dataclass(frozen=True)
class RegisteredEvent:
    """``Registered(provider, registrantId, source, env)``: a provider joined ``source``."""

    provider: ChecksumAddress
    registrant_id: int
    source: Source
    block_number: int
    transaction_hash: str
    log_index: int
