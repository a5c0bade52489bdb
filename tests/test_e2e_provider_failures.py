"""End to end: handlers that fail are logged and skipped; the runtime keeps serving."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from ogpu.client import publish_task, wait_for_response
from ogpu.types import TaskStatus
from ogpu_devnet.demo import analyze_text

release = threading.Event()


def moody(input_data: dict[str, Any]) -> Any:
    """Fails in three ways depending on the input; otherwise analyses the text."""
    mode = input_data.get("mode")
    if mode == "raise":
        raise RuntimeError("model crashed")
    if mode == "hang":
        release.wait(30)
        return {"late": True}
    if mode == "not-json":
        return {"value": object()}
    return analyze_text(input_data)


@pytest.mark.parametrize("mode", ["raise", "hang", "not-json"])
def test_failing_handler_leaves_task_pending_and_runtime_alive(
    net: Any, providers: Any, mode: str
) -> None:
    release.clear()
    source = net.publish_source()
    group = providers(moody, sources=[source], handler_timeout=0.5)
    net.fund_client()

    bad = publish_task(net.task_info(source, {"mode": mode, "text": "x"}), net.client_key)
    (outcome,) = group.wait_for_outcomes(bad, 1, timeout=60)
    assert outcome.kind == "failed"
    assert bad.get_status() == TaskStatus.ATTEMPTED  # attempted, never answered
    assert bad.get_responses() == []
    assert bad.get_confirmed_response() is None

    good = publish_task(net.task_info(source, {"text": "a lovely day"}), net.client_key)
    response = wait_for_response(good, timeout=60, poll_interval=0.05)
    assert response.fetch_data()["sentiment"]["label"] == "positive"
    # The runtime records its outcome after its own receipt arrives, which may be after the
    # client already sees the response on chain: wait for the record, not for a clock.
    (done,) = group.wait_for_outcomes(good, 1, timeout=60)
    assert done.kind == "submitted"
    assert group.runtime.stats.failed == 1 and group.runtime.stats.submitted == 1
    release.set()  # let an abandoned handler thread finish
