"""The service's configuration, read from the environment when :func:`ogpu.service.start` runs.

The provider runtime starts a source's image with these variables (the first five as the
published SDK reads them); the ``OGPU_SERVICE_*`` ones are ours and optional.

=============================== ============== ==========================================
variable                        default        meaning
=============================== ============== ==========================================
``SOURCE_ADDRESS``              ``0xundefined`` the source this machine serves (log tag)
``PROVIDER_ADDRESS``            ``0xundefined`` the provider running it (log tag)
``CALLBACK_URL``                unset          results are POSTed to ``{CALLBACK_URL}/{task}``
``PROTOCOL_VERSION``            unset          log/Sentry tag
``OGPU_SDK_SENTRY_DSN``         unset          Sentry, if ``sentry-sdk`` is installed
``OGPU_SERVICE_HOST``           ``0.0.0.0``    bind address
``OGPU_SERVICE_PORT``/``PORT``  ``5555``       bind port (``OGPU_SERVICE_PORT`` wins)
``OGPU_SERVICE_MAX_CONCURRENCY`` ``4``          tasks run at once; more get 503 + Retry-After
``OGPU_SERVICE_CALLBACK_DEADLINE`` ``60``       seconds to deliver one callback (with retries)
``OGPU_SERVICE_GRACE_PERIOD``   ``30``         seconds in-flight tasks get after SIGTERM
=============================== ============== ==========================================
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from ogpu.service._errors import ServiceConfigError

DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 5555
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_CALLBACK_DEADLINE = 60.0
DEFAULT_GRACE_PERIOD = 30.0
UNDEFINED_ADDRESS = "0xundefined"


@dataclass(frozen=True)
class ServiceConfig:
    """Everything :func:`ogpu.service.start` and :func:`ogpu.service.create_app` need.

    Example::

        config = ServiceConfig.from_env()            # what start() does
        config = ServiceConfig(port=0, callback_url="http://127.0.0.1:9000/callback")
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    callback_url: str | None = None
    source_address: str = UNDEFINED_ADDRESS
    provider_address: str = UNDEFINED_ADDRESS
    protocol_version: str | None = None
    sentry_dsn: str | None = field(default=None, repr=False)
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    callback_deadline: float = DEFAULT_CALLBACK_DEADLINE
    grace_period: float = DEFAULT_GRACE_PERIOD

    def __post_init__(self) -> None:
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise ServiceConfigError(f"port must be an int, got {self.port!r}")
        if not 0 <= self.port <= 65535:
            raise ServiceConfigError(f"port must be in 0..65535, got {self.port}")
        if (
            isinstance(self.max_concurrency, bool)
            or not isinstance(self.max_concurrency, int)
            or self.max_concurrency < 1
        ):
            raise ServiceConfigError(
                f"max_concurrency must be an int >= 1, got {self.max_concurrency!r}"
            )
        for name in ("callback_deadline", "grace_period"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value < 0
            ):
                raise ServiceConfigError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.callback_url is not None and not self.callback_url.startswith(
            ("http://", "https://")
        ):
            raise ServiceConfigError(
                f"CALLBACK_URL must be an http(s) URL, got {self.callback_url!r}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServiceConfig:
        """Read the variables of the module docstring (``os.environ`` by default)."""
        env = os.environ if environ is None else environ

        def number(name: str, default: float) -> float:
            text = env.get(name, "").strip()
            if not text:
                return default
            try:
                return float(text)
            except ValueError:
                raise ServiceConfigError(f"{name} must be a number, got {text!r}") from None

        def integer(names: tuple[str, ...], default: int) -> int:
            for name in names:
                text = env.get(name, "").strip()
                if text:
                    try:
                        return int(text)
                    except ValueError:
                        raise ServiceConfigError(
                            f"{name} must be an integer, got {text!r}"
                        ) from None
            return default

        return cls(
            host=env.get("OGPU_SERVICE_HOST", "").strip() or DEFAULT_HOST,
            port=integer(("OGPU_SERVICE_PORT", "PORT"), DEFAULT_PORT),
            callback_url=(env.get("CALLBACK_URL") or "").strip().rstrip("/") or None,
            source_address=env.get("SOURCE_ADDRESS") or UNDEFINED_ADDRESS,
            provider_address=env.get("PROVIDER_ADDRESS") or UNDEFINED_ADDRESS,
            protocol_version=env.get("PROTOCOL_VERSION") or None,
            sentry_dsn=env.get("OGPU_SDK_SENTRY_DSN") or None,
            max_concurrency=integer(("OGPU_SERVICE_MAX_CONCURRENCY",), DEFAULT_MAX_CONCURRENCY),
            callback_deadline=number("OGPU_SERVICE_CALLBACK_DEADLINE", DEFAULT_CALLBACK_DEADLINE),
            grace_period=number("OGPU_SERVICE_GRACE_PERIOD", DEFAULT_GRACE_PERIOD),
        )
