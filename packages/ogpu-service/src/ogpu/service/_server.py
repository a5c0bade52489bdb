"""``start()``: serve the registered handlers under uvicorn until SIGTERM/SIGINT."""

from __future__ import annotations

from ogpu.service._app import create_app
from ogpu.service._config import ServiceConfig
from ogpu.service._logging import logger, setup_sentry
from ogpu.service._registry import default_registry
from ogpu.service._version import __version__


def start() -> None:
    """Serve every ``@expose``-d handler over HTTP; blocks until SIGTERM or SIGINT.

    Reads its configuration from the environment (:class:`ogpu.service.ServiceConfig`:
    ``CALLBACK_URL``, ``SOURCE_ADDRESS``, ``PROVIDER_ADDRESS``, ``PROTOCOL_VERSION``,
    ``OGPU_SDK_SENTRY_DSN``, ``OGPU_SERVICE_HOST``/``_PORT``, ...), binds ``0.0.0.0:5555`` by
    default, runs the ``@init`` function in the background, and on SIGTERM stops accepting,
    gives in-flight tasks ``OGPU_SERVICE_GRACE_PERIOD`` seconds and reports the rest.

    Example (a source's ``main.py``)::

        from ogpu.service import expose, init, start

        @expose()
        def predict(data: In) -> Out: ...

        if __name__ == "__main__":
            start()
    """
    import uvicorn

    config = ServiceConfig.from_env()
    setup_sentry(
        config.sentry_dsn,
        release=f"ogpu-service@{__version__}",
        tags={
            "source_address": config.source_address,
            "provider_address": config.provider_address,
            "protocol_version": config.protocol_version,
        },
    )
    app = create_app(default_registry, config)
    logger.info(
        "Starting OpenGPU Service on %s:%d (source %s, provider %s)",
        config.host,
        config.port,
        config.source_address,
        config.provider_address,
    )
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        # uvicorn's own wait for open connections; the app's lifespan then drains the tasks.
        timeout_graceful_shutdown=max(1, int(config.grace_period)),
    )
