"""The IPFS guide's provider and client snippets, verbatim in shape, end to end on the devnet.

The handler publishes its own output with ``publish_to_ipfs(output, filename="response.json")``
(no endpoint argument: the provider runtime points ogpu.ipfs's default at the devnet's pinning
service while it runs) and returns ``{"url": ..., "result": ...}``; the client then reads
``payload["result"]`` from the confirmed response.
"""

from __future__ import annotations

from typing import Any

import pytest
from ogpu.client import publish_task
from ogpu.ipfs import DEFAULT_PUBLISH_URL, get_settings
from ogpu_devnet.demo import analyze_text

from ogpu import publish_to_ipfs


def predict(input_data: dict[str, Any]) -> dict[str, Any]:
    # 1. Run the actual compute
    analysis = analyze_text(input_data)
    output = {
        "result": analysis["sentiment"]["label"],
        "confidence": analysis["sentiment"]["score"],
    }
    # 2. Upload the output to IPFS
    payload_url = publish_to_ipfs(output, filename="response.json")
    # 3. Return the URL — the source runtime turns it into an on-chain submitResponse()
    return {"url": payload_url, "result": output}


def test_seed_provider_and_client_snippets(
    net: Any, providers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = net.publish_source()
    group = providers(predict, sources=[source])
    net.fund_client()
    published = publish_task(net.task_info(source, {"text": "a lovely, fast day"}), net.client_key)
    (outcome,) = group.wait_for_outcomes(published, 1, timeout=60)
    assert outcome.kind == "submitted", outcome.detail
    assert outcome.detail.startswith(net.devnet.ipfs.gateway_url)

    # the seed's client flow
    from ogpu.protocol import Task

    task = Task.load(published.address)
    final = task.get_confirmed_response()
    assert final
    url = final.get_data()  # IPFS URL
    payload = final.fetch_data()  # dict — one HTTP GET
    assert url == outcome.detail
    assert payload["result"] == "positive"
    group.stop()
    assert get_settings().publish_url == DEFAULT_PUBLISH_URL  # restored after the runtime
    # ... by dropping its override, not pinning the default over the environment
    monkeypatch.setenv("OGPU_IPFS_PUBLISH_URL", net.devnet.ipfs.publish_url)
    assert get_settings().publish_url == net.devnet.ipfs.publish_url
