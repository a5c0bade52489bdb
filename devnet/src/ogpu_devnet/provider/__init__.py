"""The provider runtime: the part of the OpenGPU network the SDK deliberately does not contain.

On the live network a provider machine runs a source's docker image; the source runtime
inside it takes tasks, calls the source's handler and submits the response signed by the
provider key. Here :func:`start_providers` plays one or more such providers against a devnet,
with the handler given as a Python callable shaped like the IPFS guide's
``def predict(input_data): ...``.

Example::

    from ogpu_devnet import Devnet
    from ogpu_devnet.provider import start_providers

    def predict(input_data):
        return {"result": input_data["text"].upper()}

    with Devnet() as devnet, start_providers(devnet, predict, count=2) as providers:
        ...  # publish a source and a task with ogpu.client; the providers answer

The same from the command line: ``ogpu-devnet serve --provider my_module:predict``.

A real source service (``ogpu.service``) instead of a callable, driven over HTTP as a live
provider machine drives a source's image: :func:`start_service_providers` (``ogpu-devnet serve
--provider-source main.py`` or ``--provider-service URL``).
"""

from __future__ import annotations

from ogpu_devnet.provider._handler import (
    Handler,
    HandlerError,
    HandlerFailedError,
    HandlerLoadError,
    HandlerOutput,
    HandlerOutputError,
    HandlerTimeoutError,
    TaskHandler,
    load_handler,
    run_handler,
    run_task_handler,
    shape_output,
)
from ogpu_devnet.provider._http_service import (
    CallbackServer,
    ServiceHandler,
    ServiceProcess,
    ServiceProviderGroup,
    shape_service_body,
    start_service_providers,
)
from ogpu_devnet.provider._network import Network, NetworkConfigError
from ogpu_devnet.provider._runtime import (
    Outcome,
    ProviderGroup,
    ProviderIdentity,
    ProviderRuntime,
    ProviderRuntimeError,
    RuntimeStats,
    start_providers,
)
from ogpu_devnet.provider._submit import Submission, SubmitError, submit_response

__all__ = [
    "CallbackServer",
    "Handler",
    "HandlerError",
    "HandlerFailedError",
    "HandlerLoadError",
    "HandlerOutput",
    "HandlerOutputError",
    "HandlerTimeoutError",
    "Network",
    "NetworkConfigError",
    "Outcome",
    "ProviderGroup",
    "ProviderIdentity",
    "ProviderRuntime",
    "ProviderRuntimeError",
    "RuntimeStats",
    "ServiceHandler",
    "ServiceProcess",
    "ServiceProviderGroup",
    "Submission",
    "SubmitError",
    "TaskHandler",
    "load_handler",
    "run_handler",
    "run_task_handler",
    "shape_output",
    "shape_service_body",
    "start_providers",
    "start_service_providers",
    "submit_response",
]
