"""The source developer's framework: expose pydantic handlers over HTTP to the provider runtime.

A source's docker image runs a ``main.py`` like this one; the provider runtime POSTs each
task's ``data`` to ``/run/{function}/{task_address}`` and receives the result at its
``CALLBACK_URL``::

    from pydantic import BaseModel
    from ogpu.service import expose, init, logger, start

    class Prompt(BaseModel):
        text: str

    class Answer(BaseModel):
        words: int

    @init()
    def load() -> None:
        logger.info("model loaded")

    @expose(timeout=60)
    def count(data: Prompt) -> Answer:
        return Answer(words=len(data.text.split()))

    if __name__ == "__main__":
        start()        # 0.0.0.0:5555 unless OGPU_SERVICE_HOST / OGPU_SERVICE_PORT say otherwise

Same surface as the published SDK's ``ogpu.service`` (``init``, ``expose``, ``start``,
``logger``), plus ``GET /health``, ``GET /functions``, error callbacks, bounded concurrency
and graceful shutdown; see ``_app.py`` for the HTTP contract.
"""

from __future__ import annotations

try:
    from ogpu.service._app import ServiceState, create_app, error_body
    from ogpu.service._config import ServiceConfig
    from ogpu.service._errors import (
        DuplicateRegistrationError,
        HandlerSignatureError,
        RegistrationError,
        ServiceConfigError,
        ServiceError,
    )
    from ogpu.service._logging import ServiceLogger
    from ogpu.service._registry import Exposed, Registry, default_registry, expose, init
    from ogpu.service._server import start
    from ogpu.service._version import __version__

    # The 0.2.3 submodule ogpu.service.logger loads first, so that the package's ``logger``
    # stays the logger object (a later first import of the submodule would rebind it).
    from ogpu.service.logger import logger
except ImportError as exc:  # pragma: no cover - only without the distribution's dependencies
    if (exc.name or "").split(".")[0] in {"starlette", "uvicorn", "pydantic", "anyio"}:
        raise ImportError(
            f"ogpu.service needs {exc.name}, which is not installed: "
            'pip install "ogpu[service]" (or pip install ogpu-service)'
        ) from exc
    raise

__all__ = [
    "DuplicateRegistrationError",
    "Exposed",
    "HandlerSignatureError",
    "RegistrationError",
    "Registry",
    "ServiceConfig",
    "ServiceConfigError",
    "ServiceError",
    "ServiceLogger",
    "ServiceState",
    "__version__",
    "create_app",
    "default_registry",
    "error_body",
    "expose",
    "init",
    "logger",
    "start",
]
