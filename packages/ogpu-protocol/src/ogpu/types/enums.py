"""Enumerations mirroring the OpenGPU contracts' ``uint8`` enums and bit flags."""

from __future__ import annotations

from enum import Enum, IntEnum, IntFlag

__all__ = [
    "DeliveryMethod",
    "Environment",
    "ResponseStatus",
    "Role",
    "SourceStatus",
    "TaskStatus",
    "combine_environments",
    "environment_names",
    "parse_environments",
]


class TaskStatus(IntEnum):
    """Lifecycle of a Task contract (``Task.getStatus()``)."""

    NEW = 0
    ATTEMPTED = 1
    RESPONDED = 2
    CANCELED = 3
    EXPIRED = 4
    FINALIZED = 5


class SourceStatus(IntEnum):
    """Lifecycle of a Source contract (``Source.getStatus()``)."""

    ACTIVE = 0
    INACTIVE = 1


class ResponseStatus(IntEnum):
    """Lifecycle of a Response contract (``Response.getStatus()``)."""

    SUBMITTED = 0
    CONFIRMED = 1


class Environment(IntFlag):
    """Hardware environments a source supports (``imageEnvironments`` bit mask)."""

    CPU = 1
    NVIDIA = 2
    AMD = 4


class DeliveryMethod(Enum):
    """How a task's winning response is chosen."""

    MANUAL_CONFIRMATION = 0
    FIRST_RESPONSE = 1


class Role(Enum):
    """The actor an operation signs as; selects the signer environment variable."""

    CLIENT = "client"
    PROVIDER = "provider"
    MASTER = "master"
    AGENT = "agent"

    @property
    def env_var(self) -> str:
        """Name of the environment variable holding this role's private key."""
        return f"{self.name}_PRIVATE_KEY"


_ALL_ENVIRONMENTS = (Environment.CPU, Environment.NVIDIA, Environment.AMD)


def combine_environments(*environments: Environment) -> int:
    """Combine environments into an ``imageEnvironments`` bit mask.

    >>> combine_environments(Environment.CPU, Environment.AMD)
    5
    """
    mask = 0
    for env in environments:
        mask |= int(env)
    return mask


def parse_environments(mask: int) -> list[Environment]:
    """Split a bit mask into its environments, in declaration order (unknown bits ignored)."""
    return [env for env in _ALL_ENVIRONMENTS if int(mask) & int(env)]


def environment_names(mask: int) -> list[str]:
    """Names of the environments set in ``mask``, e.g. ``["CPU", "AMD"]`` for 5."""
    return [str(env.name) for env in parse_environments(mask)]
