"""Client workflows of the OpenGPU SDK: publish sources and tasks, confirm responses, wait.

Example::

    from ogpu.client import (
        DeliveryMethod, ImageEnvironments, SourceInfo, TaskInfo, TaskInput,
        publish_source, publish_task, wait_for_response,
    )

    source = publish_source(SourceInfo(
        name="sentiment", description="word counts and sentiment", logoUrl="",
        imageEnvs=ImageEnvironments(cpu="https://example.org/docker-compose.yml"),
        minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
        deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
    ))
    task = publish_task(TaskInfo(
        source=source.address,
        config=TaskInput(function_name="analyze", data={"text": "a good day"}),
        expiryTime=expiry, payment=10**16,
    ))
    payload = wait_for_response(task, timeout=60).fetch_data()

Every write signs with ``private_key`` or, without it, ``CLIENT_PRIVATE_KEY``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu.client._errors import TaskClosedError, WaitTimeoutError
from ogpu.client._publish import (
    cancel_task,
    confirm_response,
    get_task_responses,
    inactivate_source,
    publish_source,
    publish_task,
    set_agent,
    update_source,
)
from ogpu.client._version import __version__
from ogpu.client._wait import wait_for_response, wait_for_status
from ogpu.ipfs import publish_to_ipfs
from ogpu.protocol import Response, Source, Task
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    Role,
    SourceInfo,
    SourceMetadata,
    SourceParams,
    TaskExpiredError,
    TaskInfo,
    TaskInput,
    TaskParams,
    combine_environments,
    environment_names,
    parse_environments,
)

# Importable (not in __all__) as from the published 0.2.x module, whose namespace carried them:
_COMPAT = (publish_to_ipfs, Receipt, Role, SourceParams, TaskParams, TaskExpiredError)

__all__ = [
    "DeliveryMethod",
    "Environment",
    "ImageEnvironments",
    "Response",
    "Source",
    "SourceInfo",
    "SourceMetadata",
    "Task",
    "TaskClosedError",
    "TaskInfo",
    "TaskInput",
    "WaitTimeoutError",
    "__version__",
    "cancel_task",
    "combine_environments",
    "confirm_response",
    "environment_names",
    "get_task_responses",
    "inactivate_source",
    "parse_environments",
    "publish_source",
    "publish_task",
    "set_agent",
    "update_source",
    "wait_for_response",
    "wait_for_status",
]

if not TYPE_CHECKING:  # invisible to type checkers: a typo stays an error for them

    def __getattr__(name: str) -> Any:
        # 0.2.0.x names that 0.2.1 removed (ChainConfig, ChainId, ...): see ._deprecated.
        from ogpu.client._deprecated import moved

        return moved(__name__, name)
