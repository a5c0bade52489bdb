"""The devnet's provider runtime fetches a task's config as IPFS content through the
trusted gateway only: a task whose config URL names another host (an internal service, as a
hostile client would write it) is skipped, and that host is never contacted."""

from __future__ import annotations

import socket
from typing import Any

from ogpu.client import wait_for_response
from ogpu.protocol import Task, controller
from ogpu.types import TaskParams
from ogpu_devnet.demo import analyze_text


def test_provider_runtime_never_fetches_a_non_ipfs_config_url(net: Any, providers: Any) -> None:
    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(8)
    port = trap.getsockname()[1]
    try:
        source = net.publish_source()
        group = providers(analyze_text, sources=[source])
        net.fund_client()
        hostile = []
        for url in (f"http://127.0.0.1:{port}/admin", f"http://0x7f000001:{port}/x"):
            params = TaskParams(
                source=source.address, config=url, expiryTime=net.now() + 600, payment=10**16
            )
            receipt = controller.publish_task(params, signer=net.client_key)
            hostile.append(Task(controller.extract_task_address(receipt)))
        for task in hostile:
            (outcome,) = group.wait_for_outcomes(task, 1, timeout=60)
            assert outcome.kind == "skipped"
            assert "IPFSUntrustedURLError" in outcome.detail
        # ... and the runtime keeps serving ordinary tasks.
        from ogpu.client import publish_task

        good = publish_task(net.task_info(source, {"text": "a lovely day"}), net.client_key)
        assert wait_for_response(good, timeout=60, poll_interval=0.05).fetch_data()
        trap.settimeout(0.05)
        try:
            conn, _ = trap.accept()
        except TimeoutError:
            pass
        else:
            conn.close()
            raise AssertionError("the runtime contacted the host a task's config URL named")
    finally:
        trap.close()
