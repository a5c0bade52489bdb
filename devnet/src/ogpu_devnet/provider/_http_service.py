"""The provider runtime driving a real source service over HTTP (``ogpu.service``'s contract).

On the live network a provider machine runs the source's docker image, whose ``main.py``
serves ``POST /run/{function}/{task_address}`` (:mod:`ogpu.service`), and receives each
result at its ``CALLBACK_URL``. Here the same, against a devnet:

- :class:`CallbackServer`: the runtime's own callback server (``POST /callback/{task}``);
- :class:`ServiceHandler`: per task, POSTs the task config's ``data`` to
  ``/run/{function_name}/{task}``, waits for the callback, and turns its body into a
  :class:`~ogpu_devnet.provider.HandlerOutput`: a body whose ``url`` is an IPFS address
  (``{"url": ..., "result": ...}``, the seed's self-uploading handler) is submitted as that
  URL; any other body is published to IPFS and its link submitted;
- :class:`ServiceProcess`: ``python main.py`` as a subprocess with ``OGPU_SERVICE_HOST``,
  ``OGPU_SERVICE_PORT``/``PORT``, ``CALLBACK_URL``, ``SOURCE_ADDRESS`` and ``PROVIDER_ADDRESS``
  set, waited for until ``GET /health`` answers 200;
- :func:`start_service_providers`: all of it around one :class:`ProviderRuntime`.

Failure is bounded: a service that refuses the task (4xx), stays busy (503 past the bound),
cannot be reached, answers an error body (``{"error": {"type": "timeout"|"exception"|...}}``)
or never calls back within ``handler_timeout`` seconds of the POST gives no response: nothing
is submitted, nothing paid, the outcome is ``failed`` with the reason, and the provider moves
on to its next task. A late callback for a task the runtime gave up on gets 404 (ogpu.service
treats 4xx as final and stops retrying).

Example::

    from ogpu_devnet import Devnet
    from ogpu_devnet.provider import start_service_providers

    with Devnet() as devnet, start_service_providers(devnet, source_path="main.py") as group:
        ...  # publish a source and a task with function_name "analyze"; the service answers
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
from eth_account import Account
from ogpu.chain import to_checksum
from ogpu.ipfs import OGPUError, parse_ipfs_url
from ogpu.protocol import Source
from ogpu.types import Environment

from ogpu_devnet.provider._handler import HandlerFailedError, HandlerOutput, HandlerTimeoutError
from ogpu_devnet.provider._network import Network
from ogpu_devnet.provider._runtime import ProviderGroup, ProviderRuntime, ProviderRuntimeError

logger = logging.getLogger("ogpu_devnet.provider.service")

MAX_CALLBACK_BYTES = 32 * 1024 * 1024
DEFAULT_CALLBACK_PORT = 5556
_POST_TIMEOUT = 10.0


# ---------------------------------------------------------------------- callback server


class _Waiter:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.body: Any = None


class CallbackServer:
    """The runtime's callback endpoint: ``POST {url}/{task_address}`` with a JSON body.

    A body for a task someone waits for (:meth:`expect`) is answered 200 and handed over; a
    task nobody waits for (unknown, or given up) gets 404, a body that is not JSON 400, one
    over 32 MiB 413. ``url`` is ``http://HOST:PORT/callback``, the ``CALLBACK_URL`` to give a
    service.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.received = 0

    @property
    def url(self) -> str:
        """The ``CALLBACK_URL`` services post to."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/callback"

    def start(self) -> CallbackServer:
        """Bind and serve in a daemon thread (idempotent)."""
        if self._server is not None:
            return self
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                outer._on_post(self)

            def log_message(self, format: str, *args: Any) -> None:
                logger.debug("callback server: " + format, *args)

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ogpu-callback-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def expect(self, task_address: str) -> _Waiter:
        """Register interest in ``task_address``'s callback (before POSTing the task)."""
        waiter = _Waiter()
        with self._lock:
            self._waiters[task_address.lower()] = waiter
        return waiter

    def forget(self, task_address: str) -> None:
        """Stop waiting for ``task_address`` (a later callback gets 404)."""
        with self._lock:
            self._waiters.pop(task_address.lower(), None)

    def _on_post(self, request: BaseHTTPRequestHandler) -> None:
        path = urllib.parse.urlsplit(request.path).path.rstrip("/")
        prefix, _, task = path.rpartition("/")
        length = int(request.headers.get("Content-Length") or 0)
        if prefix != "/callback" or not task:
            return _answer(request, 404, {"detail": "POST /callback/{task_address}"})
        if length > MAX_CALLBACK_BYTES:
            return _answer(request, 413, {"detail": "callback body too large"})
        raw = request.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            return _answer(request, 400, {"detail": "callback body is not JSON"})
        task = urllib.parse.unquote(task)
        with self._lock:
            waiter = self._waiters.pop(task.lower(), None)
            self.received += 1
        if waiter is None:
            logger.info("callback for task %s, which no provider waits for: dropped", task)
            return _answer(request, 404, {"detail": f"no task {task} is waiting"})
        waiter.body = body
        waiter.event.set()
        _answer(request, 200, {"status": "received"})

    def __enter__(self) -> CallbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _answer(request: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", str(len(data)))
    request.end_headers()
    request.wfile.write(data)


# ---------------------------------------------------------------------- the handler


class ServiceHandler:
    """Run tasks through a source service at ``service_url`` (see the module docstring)."""

    def __init__(self, service_url: str, callbacks: CallbackServer) -> None:
        self.service_url = service_url.rstrip("/")
        self.callbacks = callbacks
        self.__name__ = f"service {self.service_url}"
        self._session = requests.Session()

    def __repr__(self) -> str:
        return f"ServiceHandler({self.service_url!r})"

    def __call__(self, input_data: Any) -> Any:
        """Refuse: a service needs the task's function name and address (use run_task)."""
        raise HandlerFailedError("a source service runs tasks through run_task(), not a call")

    def run_task(self, task_address: str, config: Any, timeout: float) -> HandlerOutput:
        """POST the task, wait for its callback (``timeout`` s in all), shape the body."""
        deadline = time.monotonic() + timeout
        function = config.get("function_name") if isinstance(config, Mapping) else None
        if not isinstance(function, str) or not function:
            raise HandlerFailedError(f"the task config names no function_name: {config!r:.200}")
        waiter = self.callbacks.expect(task_address)
        try:
            self._post(function, task_address, config.get("data"), deadline)
            if not waiter.event.wait(max(0.0, deadline - time.monotonic())):
                raise HandlerTimeoutError(
                    f"the service accepted the task but did not call back within {timeout} s"
                )
        finally:
            self.callbacks.forget(task_address)
        return shape_service_body(waiter.body)

    def _post(self, function: str, task_address: str, data: Any, deadline: float) -> None:
        url = f"{self.service_url}/run/{urllib.parse.quote(function, safe='')}/{task_address}"
        backoff = 0.1
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HandlerTimeoutError(f"the service at {self.service_url} stayed unavailable")
            try:
                answer = self._session.post(url, json=data, timeout=min(_POST_TIMEOUT, left))
            except requests.RequestException as exc:
                reason = f"{type(exc).__name__}: {exc}"
                retry_after = backoff
            else:
                if answer.status_code in (200, 202):
                    return
                if answer.status_code not in (429, 503):  # 404, 422, 500: final for this task
                    raise HandlerFailedError(
                        f"the service refused the task: HTTP {answer.status_code} "
                        f"{answer.text[:500]}"
                    )
                reason = f"HTTP {answer.status_code}"
                retry_after = _retry_after(answer.headers.get("Retry-After"), backoff)
            logger.debug("service busy or unreachable for task %s (%s)", task_address, reason)
            time.sleep(max(0.0, min(retry_after, deadline - time.monotonic())))
            backoff = min(backoff * 2, 2.0)


def _retry_after(header: str | None, default: float) -> float:
    try:
        return min(max(float(header), 0.0), 5.0) if header else default
    except ValueError:
        return default


def shape_service_body(body: Any) -> HandlerOutput:
    """A callback body as the runtime submits it (error body -> HandlerError).

    ``{"error": {"type": "timeout", ...}}`` raises :class:`HandlerTimeoutError`, any other
    error body :class:`HandlerFailedError`; a body whose ``url`` is an IPFS address is
    submitted as that URL (payload: its ``result``, or the body); anything else is the
    payload the runtime publishes (wrapped as ``{"result": ...}`` when not an object).
    """
    if isinstance(body, dict) and isinstance(body.get("error"), dict) and len(body) == 1:
        error = body["error"]
        kind, message = str(error.get("type", "?")), str(error.get("message", ""))
        if kind == "timeout":
            raise HandlerTimeoutError(f"the service reported a timeout: {message}")
        raise HandlerFailedError(f"the service reported {kind}: {message}")
    if isinstance(body, dict) and isinstance(body.get("url"), str) and body["url"]:
        try:
            parse_ipfs_url(body["url"])
        except OGPUError:
            pass  # not an IPFS address: an ordinary field, the body is the payload
        else:
            return HandlerOutput(payload=body.get("result", body), url=body["url"])
    return HandlerOutput(payload=body if isinstance(body, dict) else {"result": body})


# ---------------------------------------------------------------------- the subprocess


def free_port(host: str = "127.0.0.1") -> int:
    """A port free right now on ``host`` (for a subprocess that cannot report its own)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServiceProcess:
    """``python PATH/main.py`` as a source service on a free port (see the module docstring).

    Its output goes to this process's stdout/stderr unless ``output`` names a file.
    """

    def __init__(
        self,
        source_path: str | os.PathLike[str],
        *,
        callback_url: str,
        provider_address: str,
        source_address: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        output: str | os.PathLike[str] | None = None,
    ) -> None:
        path = Path(source_path).resolve()
        if not path.is_file():
            raise ProviderRuntimeError(f"--provider-source: no such file {path}")
        self.path = path
        self.host = host
        self.port = port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.python = python
        self.env = {
            **os.environ,
            **(env or {}),
            "OGPU_SERVICE_HOST": host,
            "OGPU_SERVICE_PORT": str(self.port),
            "PORT": str(self.port),
            "CALLBACK_URL": callback_url,
            "PROVIDER_ADDRESS": provider_address,
            "SOURCE_ADDRESS": source_address or "0xundefined",
        }
        self.output = output
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ServiceProcess:
        """Start it and wait until ``GET /health`` answers 200 (raises if it dies or fails)."""
        out: Any = None
        if self.output is not None:
            out = open(self.output, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        try:
            self.proc = subprocess.Popen(
                [self.python, str(self.path)],
                cwd=self.path.parent,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT if out is not None else None,
            )
        finally:
            if out is not None:
                out.close()
        try:
            wait_healthy(self.url, timeout, self.proc)
        except BaseException:
            self.stop()
            raise
        logger.info("source service %s ready at %s", self.path.name, self.url)
        return self

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, wait ``grace`` seconds, then kill; returns the exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        return proc.returncode


def wait_healthy(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``{url}/health`` answers 200; raise ProviderRuntimeError on failure."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ProviderRuntimeError(f"the source service exited with code {proc.returncode}")
        try:
            answer = requests.get(f"{url}/health", timeout=2)
        except requests.RequestException as exc:
            last = type(exc).__name__
        else:
            if answer.status_code == 200:
                return
            try:
                status = answer.json()
            except ValueError:
                status = {}
            if isinstance(status, dict) and status.get("status") == "failed":
                raise ProviderRuntimeError(
                    f"the source service's init failed: {status.get('error')}"
                )
            last = f"HTTP {answer.status_code}"
        time.sleep(0.05)
    raise ProviderRuntimeError(
        f"the source service at {url} not healthy within {timeout} s ({last})"
    )


# ---------------------------------------------------------------------- wiring


class ServiceProviderGroup(ProviderGroup):
    """A :class:`ProviderGroup` that also stops its callback server and service process."""

    def __init__(
        self,
        runtimes: list[ProviderRuntime],
        callbacks: CallbackServer,
        service: ServiceProcess | None,
        handler: ServiceHandler,
    ) -> None:
        super().__init__(runtimes)
        self.callbacks = callbacks
        self.service = service
        self.handler = handler

    @property
    def service_url(self) -> str:
        """Where the source service answers."""
        return self.handler.service_url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the runtime, then the service (SIGTERM) and the callback server."""
        try:
            super().stop(timeout)
        finally:
            if self.service is not None:
                self.service.stop()
            self.callbacks.stop()


def start_service_providers(
    target: Any,
    *,
    service_url: str | None = None,
    source_path: str | os.PathLike[str] | None = None,
    sources: Iterable[Source | str] | None = None,
    environment: Environment = Environment.CPU,
    stake: int | None = None,
    handler_timeout: float = 30.0,
    poll_interval: float = 0.1,
    funder: int | str | None = None,
    callback_host: str = "127.0.0.1",
    callback_port: int | None = None,
    service_start_timeout: float = 60.0,
    service_output: str | os.PathLike[str] | None = None,
) -> ServiceProviderGroup:
    """Start one provider whose handler is a source service (already running, or started).

    Args:
        target: a running Devnet, its manifest dict or a manifest path (as start_providers).
        service_url: a service already running (``ogpu-devnet serve --provider-service``);
            it must have been started with ``CALLBACK_URL=http://HOST:PORT/callback`` of
            ``callback_host``/``callback_port`` (port default 5556 in this mode).
        source_path: a source's ``main.py`` to run as a subprocess
            (``--provider-source``); its ``CALLBACK_URL`` is set for it (free port default).
        handler_timeout: seconds from POSTing a task until its callback, after which the
            task is given up (no response).
        service_start_timeout: seconds to wait for the service's ``/health``.
        service_output: a file for the subprocess's output (default: inherited).

    The other arguments are :func:`start_providers`'. Exactly one of ``service_url`` and
    ``source_path``. Everything is checked, and the service healthy, before the first
    transaction.
    """
    if (service_url is None) == (source_path is None):
        raise ProviderRuntimeError("give exactly one of service_url and source_path")
    if service_url is not None and not service_url.startswith(("http://", "https://")):
        raise ProviderRuntimeError(f"service_url must be an http(s) URL, got {service_url!r}")
    network = Network.from_target(target, funder)
    served = [to_checksum(s, argument="source") for s in (sources or [])]
    if callback_port is None:
        callback_port = DEFAULT_CALLBACK_PORT if service_url is not None else 0
    accounts = [(Account.create(), Account.create())]
    callbacks = CallbackServer(callback_host, callback_port)
    service: ServiceProcess | None = None
    try:
        callbacks.start()
        if source_path is not None:
            service = ServiceProcess(
                source_path,
                callback_url=callbacks.url,
                provider_address=accounts[0][0].address,
                source_address=served[0] if len(served) == 1 else None,
                output=service_output,
            ).start(service_start_timeout)
            url = service.url
        else:
            assert service_url is not None
            url = service_url.rstrip("/")
            wait_healthy(url, service_start_timeout)
        handler = ServiceHandler(url, callbacks)
        runtime = ProviderRuntime(
            network,
            handler,
            count=1,
            sources=served if sources is not None else None,
            environment=environment,
            stake=stake,
            handler_timeout=handler_timeout,
            poll_interval=poll_interval,
            accounts=accounts,
        )
        logger.info("provider %s drives the source service at %s", runtime.providers[0], url)
        runtime.start()
    except BaseException:
        if service is not None:
            service.stop()
        callbacks.stop()
        raise
    return ServiceProviderGroup([runtime], callbacks, service, handler)
