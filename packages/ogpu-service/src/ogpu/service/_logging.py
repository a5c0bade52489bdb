"""The ``ogpu.service`` logger: ``task_success``, ``task_fail``, ``task_timeout``, task tags.

Like the published SDK, :data:`logger` is the ``logging`` logger named ``ogpu.service``, with
three extra levels (SUCCESS 25, TIMEOUT 35, FAIL 45) and methods of the same names. Unlike
it, the methods live on a :class:`ServiceLogger` subclass instead of being patched onto every
``logging.Logger`` of the process, and every line logged while a task runs carries its
address (``[task 0x...]``), also in code the handler calls.

FAIL and TIMEOUT lines go to Sentry as messages when Sentry is enabled (see
:func:`setup_sentry`).
"""

from __future__ import annotations

import contextvars
import logging
import sys
from typing import Any

SUCCESS_LEVEL = 25
TIMEOUT_LEVEL = 35
FAIL_LEVEL = 45

logging.addLevelName(SUCCESS_LEVEL, "SUCCESS")
logging.addLevelName(TIMEOUT_LEVEL, "TIMEOUT")
logging.addLevelName(FAIL_LEVEL, "FAIL")

#: The task whose handler the current thread runs (set by the service, read by the log filter).
current_task: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ogpu_service_task", default=None
)

_sentry: Any = None  # the sentry_sdk module once setup_sentry() enabled it


class ServiceLogger(logging.Logger):
    """A logger with the published SDK's three task methods."""

    def task_success(self, message: object, *args: Any, **kwargs: Any) -> None:
        """Log a finished task (level SUCCESS, 25)."""
        if self.isEnabledFor(SUCCESS_LEVEL):
            self._log(SUCCESS_LEVEL, message, args, **kwargs)

    def task_fail(self, message: object, *args: Any, **kwargs: Any) -> None:
        """Log a failed task (level FAIL, 45); sent to Sentry as an error when enabled."""
        if self.isEnabledFor(FAIL_LEVEL):
            self._log(FAIL_LEVEL, message, args, **kwargs)
            _capture(message, args, "error")

    def task_timeout(self, message: object, *args: Any, **kwargs: Any) -> None:
        """Log a task that ran out of time (level TIMEOUT, 35); Sentry warning when enabled."""
        if self.isEnabledFor(TIMEOUT_LEVEL):
            self._log(TIMEOUT_LEVEL, message, args, **kwargs)
            _capture(message, args, "warning")


def _capture(message: object, args: tuple[Any, ...], level: str) -> None:
    if _sentry is None:
        return
    try:
        text = str(message) % args if args else str(message)
        _sentry.capture_message(text, level=level)
    except Exception:  # reporting must never break a task
        pass


class _TaskFilter(logging.Filter):
    """Add ``record.task`` (``" [task 0x..]"`` or ``""``) for the formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task.get()
        record.task = f" [task {task}]" if task else ""
        return True


def _make_logger() -> ServiceLogger:
    manager = logging.Logger.manager
    existing = manager.loggerDict.get("ogpu.service")
    if isinstance(existing, ServiceLogger):
        return existing
    if isinstance(existing, logging.Logger):  # created earlier by getLogger("ogpu.service")
        existing.__class__ = ServiceLogger  # same state, three more methods
        return existing  # type: ignore[return-value]
    previous = manager.loggerClass
    manager.setLoggerClass(ServiceLogger)
    try:
        created = logging.getLogger("ogpu.service")
    finally:
        manager.loggerClass = previous
    assert isinstance(created, ServiceLogger)
    return created


logger: ServiceLogger = _make_logger()
"""The service's logger (``from ogpu.service import logger``; ``logger.task_success(...)``)."""

if not any(isinstance(f, _TaskFilter) for f in logger.filters):
    logger.addFilter(_TaskFilter())  # on the logger: every handler sees ``record.task``


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (not the one at import: tests swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
    _handler = _StderrHandler()
    _handler.setFormatter(
        logging.Formatter("[%(asctime)s] %(levelname)-7s%(task)s %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    logger.addHandler(_handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # its own handler prints; the "ogpu" parent would print twice


def setup_sentry(
    dsn: str | None,
    *,
    release: str,
    tags: dict[str, str | None],
) -> bool:
    """Enable Sentry if ``dsn`` is set and ``sentry-sdk`` is installed; return whether it is.

    A DSN without ``sentry-sdk`` is logged once as a warning (``pip install
    "ogpu-service[sentry]"``), never an error: the service runs without it.
    """
    global _sentry
    if not dsn:
        return False
    try:
        import sentry_sdk  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        logger.warning(
            "OGPU_SDK_SENTRY_DSN is set but sentry-sdk is not installed; "
            'Sentry is off (pip install "ogpu-service[sentry]")'
        )
        return False
    sentry_sdk.init(dsn=dsn, traces_sample_rate=0.1, environment="production", release=release)
    for key, value in tags.items():
        sentry_sdk.set_tag(key, value)
    _sentry = sentry_sdk
    logger.info("Sentry logging enabled")
    return True
