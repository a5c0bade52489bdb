"""The HTTP side of a source: a Starlette app serving the registered handlers.

Routes (the first is the published SDK's contract, byte for byte in its 202 answer):

- ``POST /run/{function}/{task_address}``: the body (the task config's ``data``) is validated
  against the handler's input model; ``202 {"task_address": ..., "status": "accepted"}``, the
  handler runs in the background and its result's ``model_dump()`` is POSTed as JSON to
  ``{CALLBACK_URL}/{task_address}``. ``404`` for an unknown function, ``422`` with pydantic's
  field errors (``{"detail": [...]}``) for a body that does not fit, ``503`` with
  ``Retry-After`` while init runs, while shutting down, or when ``max_concurrency`` tasks run.
- ``GET /health``: ``200 {"status": "ok", ...}`` once init finished; ``503`` with status
  ``starting``, ``failed`` (init raised; ``error`` says why) or ``draining``.
- ``GET /functions``: each handler's name, path, timeout, input and output JSON schema.

A task that fails still calls back, with the documented error body::

    {"error": {"type": "timeout" | "exception" | "shutdown", "message": "..."}}

``timeout``: the handler ran past ``@expose(timeout=...)`` (its thread is left to finish, its
late result dropped, its concurrency slot freed); ``exception``: it raised, returned None or
something that is not its output model; ``shutdown``: SIGTERM came and the grace period ended
before it finished. The runtime can move on at once instead of waiting out its own bound.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from ogpu.service._callback import callback_target, deliver
from ogpu.service._config import ServiceConfig
from ogpu.service._logging import current_task, logger
from ogpu.service._registry import Exposed, Registry, default_registry
from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

RETRY_AFTER_SECONDS = 1
SHUTDOWN_CALLBACK_DEADLINE = 5.0


def error_body(kind: str, message: str) -> dict[str, Any]:
    """The body a failed task's callback carries: ``{"error": {"type", "message"}}``."""
    return {"error": {"type": kind, "message": message}}


class ServiceState:
    """What the app knows at run time (``app.state.ogpu``): readiness, in-flight tasks."""

    def __init__(self, registry: Registry, config: ServiceConfig) -> None:
        self.registry = registry
        self.config = config
        self.handlers = registry.handlers  # frozen when the app is built
        self.ready = registry.init_function is None
        self.init_error: str | None = None
        self.draining = False
        self.in_flight = 0
        self.abandoned = 0  # handler threads still running after their timeout
        self.tasks: set[asyncio.Task[None]] = set()
        self._abandoned_lock = threading.Lock()

    @property
    def status(self) -> str:
        """``starting``, ``ok``, ``failed`` or ``draining``."""
        if self.draining:
            return "draining"
        if self.init_error is not None:
            return "failed"
        return "ok" if self.ready else "starting"

    # ------------------------------------------------------------------ init

    async def run_init(self) -> None:
        func = self.registry.init_function
        if func is None:
            return
        name = getattr(func, "__name__", "init")
        logger.info("Executing init function: `%s`", name)
        try:
            await asyncio.get_running_loop().run_in_executor(None, func)
        except Exception as exc:
            self.init_error = f"{type(exc).__name__}: {exc}"
            logger.task_fail("Init function `%s` failed: %s", name, self.init_error)
            return
        self.ready = True
        logger.info("Init function `%s` completed successfully", name)

    # ------------------------------------------------------------------ tasks

    async def run_task(self, exposed: Exposed, task_address: str, data: BaseModel) -> None:
        current_task.set(task_address)
        body: dict[str, Any] | None = None
        try:
            body = await self._call(exposed, task_address, data)
            await asyncio.to_thread(self._send, task_address, body, self.config.callback_deadline)
        except asyncio.CancelledError:  # the grace period after SIGTERM ended
            if body is None:
                logger.task_fail("`%s` still running at shutdown; reported", exposed.name)
                message = "the service shut down before the handler finished"
                await asyncio.to_thread(
                    self._send,
                    task_address,
                    error_body("shutdown", message),
                    min(self.config.callback_deadline, SHUTDOWN_CALLBACK_DEADLINE),
                )
            raise
        finally:
            self.in_flight -= 1

    async def _call(self, exposed: Exposed, task_address: str, data: BaseModel) -> dict[str, Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        thread = threading.Thread(
            target=self._thread,
            args=(exposed, task_address, data, future),
            name=f"ogpu-task-{task_address[:12]}",
            daemon=True,
        )
        thread.start()
        try:
            value = await asyncio.wait_for(asyncio.wrap_future(future), exposed.timeout)
        except asyncio.TimeoutError:
            with self._abandoned_lock:
                self.abandoned += 1
            logger.task_timeout("`%s` timed out after %s seconds", exposed.name, exposed.timeout)
            return error_body(
                "timeout", f"`{exposed.name}` did not finish within {exposed.timeout} s"
            )
        except Exception as exc:
            logger.task_fail("Error in `%s`: %s: %s", exposed.name, type(exc).__name__, exc)
            return error_body("exception", f"{type(exc).__name__}: {exc}")
        try:
            return _dump(exposed, value)
        except (TypeError, ValueError) as exc:
            logger.task_fail("`%s` returned an unusable result: %s", exposed.name, exc)
            return error_body("exception", str(exc))

    def _thread(
        self,
        exposed: Exposed,
        task_address: str,
        data: BaseModel,
        future: concurrent.futures.Future[Any],
    ) -> None:
        current_task.set(task_address)
        try:
            value = asyncio.run(exposed.func(data)) if exposed.is_async else exposed.func(data)
        except BaseException as exc:  # reported through the future, never lost
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                future.set_exception(exc)
        else:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                future.set_result(value)
        finally:
            if future.cancelled():  # timed out (or shut down) earlier: this thread was abandoned
                with self._abandoned_lock:
                    self.abandoned = max(0, self.abandoned - 1)
                logger.info("`%s` finished after its timeout; result dropped", exposed.name)

    def _send(self, task_address: str, body: dict[str, Any], deadline: float) -> None:
        current_task.set(task_address)
        if "error" not in body:
            logger.task_success("Function completed successfully")
        if not self.config.callback_url:
            logger.info("No callback URL configured, skipping callback")
            return
        url = callback_target(self.config.callback_url, task_address)
        if deliver(url, body, deadline):
            logger.info("Callback sent to %s", url)

    async def drain(self) -> None:
        """Stop accepting tasks; give running ones the grace period, then report the rest."""
        self.draining = True
        pending = set(self.tasks)
        if not pending:
            return
        logger.info(
            "shutting down: %d task(s) in flight, %.1f s grace",
            len(pending),
            self.config.grace_period,
        )
        _, late = await asyncio.wait(pending, timeout=self.config.grace_period)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)


def _dump(exposed: Exposed, value: Any) -> dict[str, Any]:
    if value is None:
        raise ValueError(
            f"`{exposed.name}` returned None instead of {exposed.output_model.__name__}"
        )
    if isinstance(value, BaseModel):
        dumped: dict[str, Any] = value.model_dump(mode="json")
    elif isinstance(value, dict):
        dumped = exposed.output_model.model_validate(value).model_dump(mode="json")
    else:
        raise TypeError(
            f"`{exposed.name}` returned {type(value).__name__}, not {exposed.output_model.__name__}"
        )
    json.dumps(dumped, allow_nan=False)  # NaN/inf would make the callback body invalid JSON
    return dumped


def _unavailable(detail: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail}, status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
    )


def create_app(registry: Registry | None = None, config: ServiceConfig | None = None) -> Starlette:
    """Build the ASGI app serving ``registry`` (default: what ``@expose``/``@init`` registered).

    :func:`ogpu.service.start` runs it under uvicorn; use this to run it in your own server
    or in tests (``uvicorn.run(create_app(), port=...)``). Handlers registered after this
    call are not served.
    """
    state = ServiceState(registry or default_registry, config or ServiceConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        init_task = asyncio.create_task(state.run_init())
        logger.info("Connected to OpenGPU Service, %d handler(s)", len(state.handlers))
        try:
            yield
        finally:
            await state.drain()
            if not init_task.done():
                init_task.cancel()

    async def run(request: Request) -> JSONResponse:
        function = request.path_params["function"]
        task_address = request.path_params["task_address"]
        exposed = state.handlers.get(function)
        if exposed is None:
            return JSONResponse(
                {"detail": f"unknown function {function!r}; known: {sorted(state.handlers)}"},
                status_code=404,
            )
        if state.draining:
            return _unavailable("shutting down")
        if state.init_error is not None:
            return JSONResponse({"detail": f"init failed: {state.init_error}"}, status_code=503)
        if not state.ready:
            return _unavailable("init still running")
        raw = await request.body()
        try:
            data = exposed.input_model.model_validate_json(raw or b"null")
        except ValidationError as exc:
            detail = json.loads(exc.json(include_url=False, include_context=False))
            for error in detail:
                error["loc"] = ["body", *error.get("loc", [])]
            return JSONResponse({"detail": detail}, status_code=422)
        if state.in_flight >= state.config.max_concurrency:
            return _unavailable(f"busy: {state.in_flight} task(s) running")
        state.in_flight += 1
        task = asyncio.create_task(state.run_task(exposed, task_address, data))
        state.tasks.add(task)
        task.add_done_callback(state.tasks.discard)
        return JSONResponse({"task_address": task_address, "status": "accepted"}, status_code=202)

    async def health(request: Request) -> JSONResponse:
        body: dict[str, Any] = {
            "status": state.status,
            "in_flight": state.in_flight,
            "max_concurrency": state.config.max_concurrency,
            "abandoned_threads": state.abandoned,
            "functions": sorted(state.handlers),
        }
        if state.init_error is not None:
            body["error"] = state.init_error
        return JSONResponse(body, status_code=200 if state.status == "ok" else 503)

    async def functions(request: Request) -> JSONResponse:
        return JSONResponse({
            "functions": [
                {
                    "name": e.name,
                    "path": f"/run/{e.name}/{{task_address}}",
                    "timeout": e.timeout,
                    "input_schema": e.input_model.model_json_schema(),
                    "output_schema": e.output_model.model_json_schema(),
                }
                for e in state.handlers.values()
            ]
        })  # fmt: skip

    app = Starlette(
        routes=[
            Route("/run/{function}/{task_address}", run, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/functions", functions, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.ogpu = state
    return app
