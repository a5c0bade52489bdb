"""Parameter, info and snapshot data classes."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ogpu.types.enums import DeliveryMethod, ResponseStatus, SourceStatus, TaskStatus

__all__ = [
    "ImageEnvironments",
    "MasterSnapshot",
    "ProviderSnapshot",
    "ResponseParams",
    "ResponseSnapshot",
    "SourceInfo",
    "SourceMetadata",
    "SourceParams",
    "SourceSnapshot",
    "TaskInfo",
    "TaskInput",
    "TaskParams",
    "TaskSnapshot",
]

SourceParamsTuple = tuple[str, str, int, int, int, int, bool, str, int, int]


@dataclass
class SourceMetadata:
    """The off-chain source document (``imageMetadata.json``)."""

    cpu: str
    nvidia: str
    amd: str
    name: str
    description: str
    logoUrl: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the wire field names."""
        return {
            "cpu": self.cpu,
            "nvidia": self.nvidia,
            "amd": self.amd,
            "name": self.name,
            "description": self.description,
            "logoUrl": self.logoUrl,
        }


@dataclass
class ImageEnvironments:
    """Docker-compose URL per hardware environment ("" when unsupported)."""

    cpu: str = ""
    nvidia: str = ""
    amd: str = ""


@dataclass(kw_only=True)
class SourceParams:
    """On-chain source parameters (the Nexus/Source ``SourceParams`` tuple, in ABI order)."""

    client: str
    imageMetadataUrl: str
    imageEnvironments: int
    minPayment: int
    minAvailableLockup: int
    maxExpiryDuration: int
    privacyEnabled: bool = False
    optionalParamsUrl: str = ""
    deliveryMethod: int = 0
    lastUpdateTime: int = field(default_factory=lambda: int(time.time()))

    def to_tuple(self) -> SourceParamsTuple:
        """ABI tuple for contract calls."""
        return (
            self.client,
            self.imageMetadataUrl,
            int(self.imageEnvironments),
            int(self.minPayment),
            int(self.minAvailableLockup),
            int(self.maxExpiryDuration),
            bool(self.privacyEnabled),
            self.optionalParamsUrl,
            _enum_int(self.deliveryMethod),
            int(self.lastUpdateTime),
        )

    @classmethod
    def from_tuple(cls, values: tuple[Any, ...] | list[Any]) -> SourceParams:
        """Build from a decoded ABI tuple."""
        (client, url, envs, min_pay, min_lock, max_exp, privacy, opt, delivery, updated) = values
        return cls(
            client=str(client),
            imageMetadataUrl=str(url),
            imageEnvironments=int(envs),
            minPayment=int(min_pay),
            minAvailableLockup=int(min_lock),
            maxExpiryDuration=int(max_exp),
            privacyEnabled=bool(privacy),
            optionalParamsUrl=str(opt),
            deliveryMethod=int(delivery),
            lastUpdateTime=int(updated),
        )


@dataclass(kw_only=True)
class TaskParams:
    """On-chain task parameters (``TaskParams`` tuple, ABI order)."""

    source: str
    config: str
    expiryTime: int
    payment: int

    def to_tuple(self) -> tuple[str, str, int, int]:
        """ABI tuple for contract calls."""
        return (self.source, self.config, int(self.expiryTime), int(self.payment))

    @classmethod
    def from_tuple(cls, values: tuple[Any, ...] | list[Any]) -> TaskParams:
        """Build from a decoded ABI tuple."""
        source, config, expiry, payment = values
        return cls(
            source=str(source), config=str(config), expiryTime=int(expiry), payment=int(payment)
        )


@dataclass(frozen=True)
class ResponseParams:
    """On-chain response parameters (``ResponseParams`` tuple, ABI order)."""

    task: str
    provider: str
    data: str
    payment: int

    def to_tuple(self) -> tuple[str, str, str, int]:
        """ABI tuple."""
        return (self.task, self.provider, self.data, int(self.payment))


@dataclass
class SourceInfo:
    """What a client fills in to publish a source (the client layer uploads the metadata)."""

    name: str
    description: str
    logoUrl: str
    imageEnvs: ImageEnvironments
    minPayment: int
    minAvailableLockup: int
    maxExpiryDuration: int
    deliveryMethod: DeliveryMethod = DeliveryMethod.MANUAL_CONFIRMATION


@dataclass(init=False)
class TaskInput:
    """A task's config document: ``{"function_name", "data", **extra}``."""

    function_name: str
    data: Any
    _extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def __init__(self, function_name: str, data: Any, **kwargs: Any) -> None:
        self.function_name = function_name
        self.data = data
        self._extra = dict(kwargs)

    @property
    def extra(self) -> dict[str, Any]:
        """The extra top-level fields."""
        return dict(self._extra)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: pydantic models are dumped, extra fields merged at the top level."""
        data = self.data
        dump = getattr(data, "model_dump", None)
        if callable(dump):
            data = dump()
        out: dict[str, Any] = {"function_name": self.function_name, "data": data}
        out.update(self._extra)
        return out


@dataclass
class TaskInfo:
    """What a client fills in to publish a task."""

    source: str
    config: TaskInput
    expiryTime: int
    payment: int


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class SourceSnapshot:
    """Every Source field, read in one JSON-RPC batch."""

    address: str
    client: str
    status: SourceStatus
    params: SourceParams
    task_count: int
    registrant_count: int


@dataclass(frozen=True)
class TaskSnapshot:
    """Every Task field, read in one JSON-RPC batch (``winning_provider`` None until won)."""

    address: str
    source: str
    status: TaskStatus
    params: TaskParams
    payment: int
    expiry_time: int
    delivery_method: DeliveryMethod
    attempt_count: int
    winning_provider: str | None


@dataclass(frozen=True)
class ResponseSnapshot:
    """Every Response field, read in one JSON-RPC batch."""

    address: str
    task: str
    params: ResponseParams
    data: str
    status: ResponseStatus
    timestamp: int
    confirmed: bool


@dataclass(frozen=True)
class ProviderSnapshot:
    """A provider's Terminal and Vault state, read in one JSON-RPC batch."""

    address: str
    master: str
    base_data: str
    live_data: str
    is_provider: bool
    default_agent_disabled: bool
    balance: int
    lockup: int
    unbonding: int
    unbonding_timestamp: int
    total_earnings: int
    frozen_payment: int
    sanction: int
    is_eligible: bool
    is_whitelisted: bool


@dataclass(frozen=True)
class MasterSnapshot:
    """A master's Terminal and Vault state, read in one JSON-RPC batch."""

    address: str
    provider: str
    is_master: bool
    balance: int
    lockup: int
    unbonding: int
    total_earnings: int
    frozen_payment: int
    is_eligible: bool
    is_whitelisted: bool


def _enum_int(value: Any) -> int:
    return int(value.value) if isinstance(value, DeliveryMethod) else int(value)
