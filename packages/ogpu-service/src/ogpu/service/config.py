"""Compat path of the published ``ogpu.service.config``: the environment, read at import.

New code reads :meth:`ogpu.service.ServiceConfig.from_env` (what ``start()`` does). These
constants are the values the environment held when this module was first imported.
"""

from __future__ import annotations

from ogpu.service._config import ServiceConfig
from ogpu.service._version import __version__

__all__ = [
    "CALLBACK_URL",
    "PROTOCOL_VERSION",
    "PROVIDER_ADDRESS",
    "SDK_VERSION",
    "SENTRY_DSN",
    "SERVICE_HOST",
    "SERVICE_PORT",
    "SOURCE_ADDRESS",
]

_config = ServiceConfig.from_env()

CALLBACK_URL: str | None = _config.callback_url
PROTOCOL_VERSION: str | None = _config.protocol_version
PROVIDER_ADDRESS: str = _config.provider_address
SDK_VERSION: str = __version__
SENTRY_DSN: str | None = _config.sentry_dsn
SERVICE_HOST: str = _config.host
SERVICE_PORT: int = _config.port
SOURCE_ADDRESS: str = _config.source_address
