"""``@expose`` and ``@init``: register handlers, checked when they are registered.

The checks are the published SDK's (one parameter whose annotation is a pydantic model, a
pydantic return annotation, unique names, one init function without parameters), raised as
:class:`~ogpu.service.HandlerSignatureError` (a ``TypeError``) or
:class:`~ogpu.service.DuplicateRegistrationError` (a ``ValueError``) at import time of the
source's ``main.py``, not when the first task arrives.
"""

from __future__ import annotations

import inspect
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, get_type_hints

from ogpu.service._errors import (
    DuplicateRegistrationError,
    HandlerSignatureError,
    ServiceConfigError,
)
from ogpu.service._logging import logger
from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Exposed:
    """One registered handler: ``POST /run/{name}/{task}`` runs ``func(input_model(**body))``."""

    name: str
    func: Callable[[Any], Any]
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    timeout: float | None = None

    @property
    def is_async(self) -> bool:
        """Whether ``func`` is an ``async def`` (it then runs in its own event loop)."""
        return inspect.iscoroutinefunction(self.func)


class Registry:
    """The handlers and init function of one service (the module-level one by default)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, Exposed] = {}
        self._init: Callable[[], Any] | None = None

    @property
    def handlers(self) -> dict[str, Exposed]:
        """The registered handlers by name (a copy)."""
        with self._lock:
            return dict(self._handlers)

    @property
    def init_function(self) -> Callable[[], Any] | None:
        """The registered init function, if any."""
        return self._init

    def expose(self, timeout: float | None = None) -> Callable[[F], F]:
        """See :func:`ogpu.service.expose`."""
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, (int, float))
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise ServiceConfigError(f"timeout must be a positive number or None, got {timeout!r}")

        def decorator(func: F) -> F:
            exposed = _check_handler(func, None if not timeout else float(timeout))
            with self._lock:
                if exposed.name in self._handlers:
                    raise DuplicateRegistrationError(
                        f"a handler named `{exposed.name}` is already registered"
                    )
                self._handlers[exposed.name] = exposed
            logger.info(
                "Registered handler `%s` -> POST /run/%s/{task_address}", *[exposed.name] * 2
            )
            return func

        return decorator

    def init(self) -> Callable[[F], F]:
        """See :func:`ogpu.service.init`."""

        def decorator(func: F) -> F:
            name = getattr(func, "__name__", repr(func))
            if not callable(func):
                raise HandlerSignatureError(f"init target {name} is not callable")
            params = list(inspect.signature(func).parameters.values())
            if params:
                raise HandlerSignatureError(
                    f"Init function `{name}` must take no arguments (got {len(params)})"
                )
            with self._lock:
                if self._init is not None:
                    raise DuplicateRegistrationError(
                        f"An init handler `{getattr(self._init, '__name__', '?')}` is already "
                        "registered. Only one init function is allowed."
                    )
                self._init = func
            logger.info("Registered init function: `%s`", name)
            return func

        return decorator


def _check_handler(func: Callable[..., Any], timeout: float | None) -> Exposed:
    if not callable(func):
        raise HandlerSignatureError(f"@expose() needs a function, got {type(func).__name__}")
    name = getattr(func, "__name__", "")
    if not name or not name.isidentifier():
        raise HandlerSignatureError(f"@expose() needs a named function, got {func!r}")
    params = list(inspect.signature(func).parameters.values())
    if len(params) != 1:
        raise HandlerSignatureError(
            f"Function `{name}` must take exactly ONE input argument (got {len(params)})"
        )
    try:
        hints = get_type_hints(func)
    except Exception as exc:
        raise HandlerSignatureError(
            f"cannot resolve the type hints of `{name}`: {type(exc).__name__}: {exc}"
        ) from exc
    if "return" not in hints:
        raise HandlerSignatureError(f"Function `{name}` must have a return type.")
    input_model = hints.get(params[0].name)
    output_model = hints["return"]
    if not (inspect.isclass(input_model) and issubclass(input_model, BaseModel)):
        raise HandlerSignatureError(
            f"Input to `{name}` must be a subclass of pydantic.BaseModel, got {input_model!r}"
        )
    if not (inspect.isclass(output_model) and issubclass(output_model, BaseModel)):
        raise HandlerSignatureError(
            f"Return type of `{name}` must be a subclass of pydantic.BaseModel, got {output_model!r}"
        )
    return Exposed(name, func, input_model, output_model, timeout)


default_registry = Registry()
"""The registry that the module-level :func:`expose`, :func:`init` and :func:`start` use."""


def expose(timeout: int | None = None) -> Callable[[F], F]:
    """Expose ``func(input: InModel) -> OutModel`` as ``POST /run/{func.__name__}/{task}``.

    The request body is validated against ``InModel`` (422 with the field errors if it does
    not fit); the handler runs in the background and its return value's ``model_dump()`` is
    POSTed to ``{CALLBACK_URL}/{task}``. With ``timeout`` (seconds), a handler still running
    after it is reported to the callback as ``{"error": {"type": "timeout", ...}}`` (its thread
    cannot be killed and is left to finish; its late result is dropped).

    Example::

        class In(BaseModel):
            text: str

        class Out(BaseModel):
            words: int

        @expose(timeout=60)
        def count(data: In) -> Out:
            return Out(words=len(data.text.split()))

    Returns the function unchanged, so it stays callable in tests.
    """
    return default_registry.expose(timeout)


def init() -> Callable[[F], F]:
    """Register the one function run once when the service starts (load a model, ...).

    It runs in a background thread after the HTTP server is up; ``GET /health`` answers 503
    until it returned and 200 after, and ``/run`` requests are refused with 503 meanwhile.
    If it raises, ``/health`` reports the error and the service accepts no task.

    Example::

        @init()
        def load() -> None:
            global MODEL
            MODEL = json.loads(Path("model.json").read_text())
    """
    return default_registry.init()
