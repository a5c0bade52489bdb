"""Source handlers: load them from ``MODULE:FUNCTION``, run them guarded, shape their output.

A handler is what a source's docker image runs for each task, shaped like the
IPFS guide's ``def predict(input_data): ...``. It receives the ``data`` field of
the task config and either returns its output (the runtime publishes it) or
publishes the output itself and returns ``{"url": ..., "result": ...}``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ogpu_devnet.errors import DevnetError

Handler = Callable[[Any], Any]


class HandlerError(DevnetError):
    """The handler could not produce a usable output for one task (the runtime skips it)."""


class HandlerLoadError(HandlerError, ValueError):
    """``MODULE:FUNCTION`` does not name a callable."""


class HandlerFailedError(HandlerError):
    """The handler raised."""


class HandlerTimeoutError(HandlerError, TimeoutError):
    """The handler ran past its timeout (its thread is abandoned, not killed)."""


class HandlerOutputError(HandlerError, ValueError):
    """The handler's output is not JSON-serialisable (or a malformed ``{"url": ...}``)."""


def load_handler(spec: str | Handler) -> Handler:
    """Resolve ``spec`` to a callable.

    ``spec`` is a callable, ``package.module:function``, or ``path/to/file.py:function``.

    Example::

        predict = load_handler("my_source.handler:predict")
    """
    if callable(spec):
        return spec
    if not isinstance(spec, str) or spec.count(":") != 1:
        raise HandlerLoadError(f"handler must be MODULE:FUNCTION, got {spec!r}")
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise HandlerLoadError(f"handler must be MODULE:FUNCTION, got {spec!r}")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name).resolve()
            unique = f"_ogpu_handler_{abs(hash(path))}"
            file_spec = importlib.util.spec_from_file_location(unique, path)
            if file_spec is None or file_spec.loader is None:
                raise HandlerLoadError(f"cannot load handler file {path}")
            module = importlib.util.module_from_spec(file_spec)
            sys.modules[unique] = module
            file_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except HandlerLoadError:
        raise
    except Exception as exc:
        raise HandlerLoadError(f"cannot import {module_name!r}: {exc}") from exc
    target: Any = module
    for part in attr.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise HandlerLoadError(f"{module_name!r} has no attribute {attr!r}")
    if not callable(target):
        raise HandlerLoadError(f"{spec!r} is not callable")
    handler: Handler = target
    return handler


@dataclass(frozen=True)
class HandlerOutput:
    """What a handler produced for one task.

    ``url`` is set when the handler published the payload itself; otherwise
    ``payload`` is the JSON document the runtime publishes.
    """

    payload: Any
    url: str | None = None


def run_handler(handler: Handler, input_data: Any, timeout: float) -> HandlerOutput:
    """Call ``handler(input_data)`` in a worker thread, waiting at most ``timeout`` seconds.

    Raises HandlerFailedError, HandlerTimeoutError or HandlerOutputError.
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = handler(input_data)
        except BaseException as exc:  # reported to the runtime, never propagated
            box["error"] = exc

    name = getattr(handler, "__name__", "handler")
    thread = threading.Thread(target=target, name=f"ogpu-handler-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise HandlerTimeoutError(f"handler {name} did not return within {timeout} s")
    if "error" in box:
        exc = box["error"]
        raise HandlerFailedError(f"handler {name} raised {type(exc).__name__}: {exc}") from exc
    return shape_output(box.get("value"))


def shape_output(value: Any) -> HandlerOutput:
    """Check the handler's return value and split a pre-published ``{"url", "result"}``."""
    if isinstance(value, dict) and set(value) == {"url", "result"}:
        url = value["url"]
        if not isinstance(url, str) or not url:
            raise HandlerOutputError(f"handler returned a non-string url: {url!r}")
        return HandlerOutput(payload=_checked(value["result"]), url=url)
    payload = _checked(value)
    if not isinstance(payload, dict):
        # Keep Response.fetch_data() a dict: wrap scalars and lists as {"result": ...}.
        payload = {"result": payload}
    return HandlerOutput(payload=payload)


def _checked(value: Any) -> Any:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise HandlerOutputError(f"handler output is not JSON-serialisable: {exc}") from exc
    return value


@runtime_checkable
class TaskHandler(Protocol):
    """A handler that needs the task's address and whole config, not only its ``data``."""

    def run_task(self, task_address: str, config: Any, timeout: float) -> HandlerOutput:
        """Produce the output for one task within ``timeout`` seconds or raise HandlerError."""
        ...


def run_task_handler(
    handler: Handler | TaskHandler, task_address: str, config: Any, timeout: float
) -> HandlerOutput:
    """Run one task through ``handler``: a :class:`TaskHandler` gets the address and config,
    a plain ``handler(input_data)`` callable the config's ``data`` (:func:`run_handler`)."""
    if isinstance(handler, TaskHandler):
        return handler.run_task(task_address, config, timeout)
    data = config.get("data") if isinstance(config, Mapping) else None
    return run_handler(handler, data, timeout)
