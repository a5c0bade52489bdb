"""The HTTP contract over real sockets: 202 + callback, 422, 404, health, error bodies,
callback retries, the concurrency limit."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
from ogpu.service import Registry
from pydantic import BaseModel

TASK = "0x" + "ab" * 20


class In(BaseModel):
    text: str
    repeat: int = 1


class Out(BaseModel):
    words: int
    echo: str


def counting_registry(**expose: Any) -> Registry:
    registry = Registry()

    @registry.expose(**expose)
    def count(data: In) -> Out:
        return Out(words=len(data.text.split()), echo=data.text * data.repeat)

    return registry


def test_accepted_then_the_result_reaches_the_callback(serve: Any, callbacks: Any) -> None:
    service = serve(counting_registry(), callback_url=callbacks.url)
    answer = requests.post(f"{service.url}/run/count/{TASK}", json={"text": "a b c", "repeat": 2})
    assert answer.status_code == 202
    assert answer.json() == {"task_address": TASK, "status": "accepted"}
    ((path, body),) = callbacks.wait(1)
    assert path == f"/callback/{TASK}"
    assert body == {"words": 3, "echo": "a b ca b c"}


def test_invalid_input_is_422_with_field_errors_and_unknown_function_404(
    serve: Any, callbacks: Any
) -> None:
    service = serve(counting_registry(), callback_url=callbacks.url)
    missing = requests.post(f"{service.url}/run/count/{TASK}", json={"repeat": "x"})
    assert missing.status_code == 422
    fields = {(tuple(e["loc"]), e["type"]) for e in missing.json()["detail"]}
    assert fields == {(("body", "text"), "missing"), (("body", "repeat"), "int_parsing")}
    not_json = requests.post(f"{service.url}/run/count/{TASK}", data=b"{nope")
    assert not_json.status_code == 422
    assert not_json.json()["detail"][0]["type"] == "json_invalid"
    unknown = requests.post(f"{service.url}/run/translate/{TASK}", json={"text": "x"})
    assert unknown.status_code == 404 and "translate" in unknown.json()["detail"]
    # The service is still serving, and nothing was called back.
    assert requests.get(f"{service.url}/health").status_code == 200
    assert callbacks.hits == 0


def test_health_is_503_until_init_finished_then_200(serve: Any) -> None:
    registry = counting_registry()
    release = threading.Event()
    registry.init()(lambda: release.wait(10))
    service = serve(registry)
    before = requests.get(f"{service.url}/health")
    assert before.status_code == 503 and before.json()["status"] == "starting"
    refused = requests.post(f"{service.url}/run/count/{TASK}", json={"text": "x"})
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    release.set()
    deadline = time.monotonic() + 5
    while requests.get(f"{service.url}/health").status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    after = requests.get(f"{service.url}/health").json()
    assert after["status"] == "ok" and after["functions"] == ["count"]
    functions = requests.get(f"{service.url}/functions").json()["functions"]
    assert functions[0]["name"] == "count"
    assert functions[0]["input_schema"]["required"] == ["text"]
    assert set(functions[0]["output_schema"]["properties"]) == {"words", "echo"}


def test_a_failing_init_is_reported_by_health(serve: Any) -> None:
    registry = counting_registry()

    def load() -> None:
        raise FileNotFoundError("model.bin")

    registry.init()(load)
    service = serve(registry)
    deadline = time.monotonic() + 5
    while (health := requests.get(f"{service.url}/health").json())["status"] == "starting":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert health["status"] == "failed" and "model.bin" in health["error"]
    assert requests.post(f"{service.url}/run/count/{TASK}", json={"text": "x"}).status_code == 503


def test_timeout_and_exception_reach_the_callback_as_error_bodies(
    serve: Any, callbacks: Any
) -> None:
    registry = Registry()
    never = threading.Event()

    @registry.expose(timeout=0.3)
    def slow(data: In) -> Out:
        never.wait(5)
        return Out(words=0, echo="late")

    @registry.expose()
    def broken(data: In) -> Out:
        raise RuntimeError(f"cannot handle {data.text}")

    @registry.expose()
    def nothing(data: In) -> Out:
        return None  # type: ignore[return-value]

    service = serve(registry, callback_url=callbacks.url)
    for name, task in (("slow", "0x01"), ("broken", "0x02"), ("nothing", "0x03")):
        answer = requests.post(f"{service.url}/run/{name}/{task}", json={"text": "t"})
        assert answer.status_code == 202
    bodies = dict(callbacks.wait(3))
    never.set()
    assert bodies["/callback/0x01"]["error"]["type"] == "timeout"
    assert "0.3" in bodies["/callback/0x01"]["error"]["message"]
    assert bodies["/callback/0x02"] == {
        "error": {"type": "exception", "message": "RuntimeError: cannot handle t"}
    }
    assert bodies["/callback/0x03"]["error"]["type"] == "exception"
    assert "returned None" in bodies["/callback/0x03"]["error"]["message"]


def test_callback_delivery_is_retried_against_a_flaky_receiver(serve: Any, callbacks: Any) -> None:
    callbacks.fail_first = 2
    service = serve(counting_registry(), callback_url=callbacks.url, callback_deadline=10)
    requests.post(f"{service.url}/run/count/{TASK}", json={"text": "a"})
    ((_, body),) = callbacks.wait(1)
    assert body == {"words": 1, "echo": "a"}
    assert callbacks.hits == 3  # two 503s, then delivered once


def test_callback_delivery_gives_up_after_its_deadline(
    serve: Any, callbacks: Any, caplog: pytest.LogCaptureFixture
) -> None:
    callbacks.fail_first = 10**6
    service = serve(counting_registry(), callback_url=callbacks.url, callback_deadline=0.5)
    started = time.monotonic()
    requests.post(f"{service.url}/run/count/{TASK}", json={"text": "a"})
    deadline = time.monotonic() + 5
    while requests.get(f"{service.url}/health").json()["in_flight"]:
        assert time.monotonic() < deadline, "delivery did not give up"
        time.sleep(0.05)
    assert time.monotonic() - started < 3
    assert 2 <= callbacks.hits <= 10  # retried with backoff, not hammered
    assert callbacks.received == []


def test_a_4xx_callback_answer_is_final(serve: Any, callbacks: Any) -> None:
    callbacks.fail_first, callbacks.fail_status = 10**6, 404
    service = serve(counting_registry(), callback_url=callbacks.url, callback_deadline=5)
    requests.post(f"{service.url}/run/count/{TASK}", json={"text": "a"})
    deadline = time.monotonic() + 4
    while requests.get(f"{service.url}/health").json()["in_flight"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert callbacks.hits == 1


def test_the_concurrency_limit_answers_503_with_retry_after(serve: Any, callbacks: Any) -> None:
    registry = Registry()
    release = threading.Event()

    @registry.expose()
    def hold(data: In) -> Out:
        release.wait(10)
        return Out(words=1, echo=data.text)

    service = serve(registry, callback_url=callbacks.url, max_concurrency=2)
    assert requests.post(f"{service.url}/run/hold/0x01", json={"text": "1"}).status_code == 202
    assert requests.post(f"{service.url}/run/hold/0x02", json={"text": "2"}).status_code == 202
    full = requests.post(f"{service.url}/run/hold/0x03", json={"text": "3"})
    assert full.status_code == 503 and full.headers["Retry-After"] == "1"
    assert requests.get(f"{service.url}/health").json()["in_flight"] == 2
    release.set()
    callbacks.wait(2)
    deadline = time.monotonic() + 5
    while requests.post(f"{service.url}/run/hold/0x03", json={"text": "3"}).status_code != 202:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert sorted(p for p, _ in callbacks.wait(3)) == [f"/callback/0x0{i}" for i in (1, 2, 3)]


def test_log_lines_carry_the_task_address(serve: Any, callbacks: Any) -> None:
    import io
    import logging

    from ogpu.service import logger

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s%(task)s %(message)s"))
    logger.addHandler(handler)
    registry = Registry()

    @registry.expose()
    def speak(data: In) -> Out:
        from ogpu.service import logger

        logger.info("inside the handler: %s", data.text)
        return Out(words=1, echo=data.text)

    service = serve(registry, callback_url=callbacks.url)
    requests.post(f"{service.url}/run/speak/{TASK}", json={"text": "hello"})
    try:
        callbacks.wait(1)
        time.sleep(0.1)
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue()
    assert f"INFO [task {TASK}] inside the handler: hello" in lines
    assert f"SUCCESS [task {TASK}] Function completed successfully" in lines
    assert "INFO Registered handler `speak`" in lines  # no task: no tag
