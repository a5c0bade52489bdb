"""End to end with a real source service: a source written like the public ones runs under
ogpu.service (a subprocess on a free port, or a server in this process), driven over HTTP by
the devnet's provider runtime; the client reads the handler's output from the chain."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from ogpu.client import TaskInfo, TaskInput, publish_task, wait_for_response
from ogpu.protocol import Task, vault
from ogpu.service import Registry, ServiceConfig, create_app
from ogpu.types import TaskStatus
from ogpu_devnet.provider import start_service_providers
from ogpu_devnet.provider._http_service import free_port
from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "packages" / "ogpu-service" / "examples" / "sentiment" / "main.py"
TEXT = "Great and fast, but the docs were bad."


def example_output(text: str) -> dict[str, Any]:
    """The example handler's own output, computed by calling it in this process."""
    module = sys.modules.get("_example_sentiment_source")
    if module is None:
        spec = importlib.util.spec_from_file_location("_example_sentiment_source", EXAMPLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        registry = Registry()  # keep the example's decorators off the default registry
        import ogpu.service._registry as reg

        saved, reg.default_registry = reg.default_registry, registry
        try:
            spec.loader.exec_module(module)
        finally:
            reg.default_registry = saved
        sys.modules["_example_sentiment_source"] = module
        module.load_model()
    return dict(module.analyze(module.Review(text=text)).model_dump(mode="json"))


def test_a_source_service_answers_tasks_on_chain(net: Any, tmp_path: Path) -> None:
    source = net.publish_source()
    group = start_service_providers(
        net.devnet,
        source_path=EXAMPLE,
        sources=[source],
        poll_interval=0.05,
        service_output=tmp_path / "service.log",
    )
    try:
        net.fund_client()
        task = publish_task(net.task_info(source, {"text": TEXT}), net.client_key)
        response = wait_for_response(task, timeout=60, poll_interval=0.05)
        assert response.fetch_data() == example_output(TEXT)
        with pytest.warns(DeprecationWarning, match="now reads the chain"):
            from ogpu.client import get_confirmed_response  # the 0.2.0.x client's call
        legacy = get_confirmed_response(task.address)
        assert legacy.to_dict() == {"address": response.address, "data": response.get_data()}
        (outcome,) = group.wait_for_outcomes(task, 1, timeout=10)
        assert outcome.kind == "submitted" and outcome.provider == group.providers[0]
    finally:
        group.stop()
    log = (tmp_path / "service.log").read_text()
    assert f"[task {task.address}]" in log  # the service's log lines carry the task
    assert group.service is not None and group.service.proc is not None
    assert group.service.proc.poll() is not None  # stopped with the group


class In(BaseModel):
    text: str


class Out(BaseModel):
    url: str
    result: dict[str, Any]


class Plain(BaseModel):
    words: int


class _Server:
    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive()
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def test_failing_services_get_no_response_and_the_provider_moves_on(net: Any) -> None:
    from ogpu.ipfs import publish_to_ipfs

    release = threading.Event()
    registry = Registry()

    @registry.expose()
    def broken(data: In) -> Plain:
        raise RuntimeError("model crashed")

    @registry.expose(timeout=0.2)
    def slow(data: In) -> Plain:
        release.wait(10)
        return Plain(words=0)

    @registry.expose()
    def silent(data: In) -> Plain:  # calls back only after the runtime's bound
        release.wait(10)
        return Plain(words=0)

    @registry.expose()
    def uploads(data: In) -> Out:  # the seed's shape: the handler publishes itself
        result = {"words": len(data.text.split())}
        return Out(url=publish_to_ipfs(result, filename="response.json"), result=result)

    callback_port = free_port()
    service = _Server(
        create_app(
            registry,
            ServiceConfig(
                port=0,
                callback_url=f"http://127.0.0.1:{callback_port}/callback",
                callback_deadline=2,
            ),
        )
    )
    source = net.publish_source()
    group = start_service_providers(
        net.devnet,
        service_url=service.url,
        callback_port=callback_port,
        sources=[source],
        handler_timeout=1.5,
        poll_interval=0.05,
    )
    try:
        net.fund_client()

        def publish(function: str, data: Any) -> Any:
            info = TaskInfo(
                source=str(source),
                config=TaskInput(function_name=function, data=data),
                expiryTime=net.now() + 600,
                payment=10**16,
            )
            return publish_task(info, net.client_key)

        cases = {
            "broken": (
                publish("broken", {"text": "x"}),
                "reported exception: RuntimeError: model crashed",
            ),
            "slow": (publish("slow", {"text": "x"}), "reported a timeout"),
            "silent": (publish("silent", {"text": "x"}), "did not call back within 1.5 s"),
            "invalid": (publish("broken", {"txt": "x"}), "HTTP 422"),
            "unknown": (publish("translate", {"text": "x"}), "HTTP 404"),
        }
        good = publish("uploads", {"text": "one two three"})
        (outcome,) = group.wait_for_outcomes(good, 1, timeout=60)
        assert outcome.kind == "submitted", outcome.detail
        assert Task(good.address).get_confirmed_response().fetch_data() == {"words": 3}
        for name, (task, reason) in cases.items():
            (failed,) = group.wait_for_outcomes(task, 1, timeout=30)
            assert failed.kind == "failed" and reason in failed.detail, (name, failed.detail)
            assert Task(task.address).get_status() == TaskStatus.ATTEMPTED  # no response
            assert Task(task.address).get_responses() == []
        provider = group.providers[0]
        assert vault.get_total_earnings_of(provider) == 10**16  # only the good task was paid
    finally:
        release.set()
        group.stop()
        service.stop()


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"service_url": "http://x", "source_path": "main.py"}, {"service_url": "ftp://x"}],
)
def test_start_service_providers_checks_its_arguments(net: Any, kwargs: Any) -> None:
    from ogpu_devnet.provider import ProviderRuntimeError

    with pytest.raises(ProviderRuntimeError):
        start_service_providers(net.devnet, **kwargs)


def test_a_missing_source_file_fails_before_any_transaction(net: Any, tmp_path: Path) -> None:
    from ogpu_devnet.provider import ProviderRuntimeError

    block = net.w3.eth.block_number
    with pytest.raises(ProviderRuntimeError, match="no such file"):
        start_service_providers(net.devnet, source_path=tmp_path / "main.py")
    broken = tmp_path / "broken.py"
    broken.write_text(
        "from ogpu.service import init, start\n"
        "@init()\ndef load() -> None:\n    raise OSError('weights missing')\n"
        "start()\n"
    )
    with pytest.raises(ProviderRuntimeError, match="weights missing"):
        start_service_providers(net.devnet, source_path=broken, service_start_timeout=30)
    assert net.w3.eth.block_number == block
