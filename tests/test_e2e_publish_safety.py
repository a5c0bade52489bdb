"""publish_task's guards against the devnet: expiry before upload and before sending,
total_timeout, and what the user is told when the chain step fails after the upload."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from ogpu.client import publish_task
from ogpu.types import OGPUError, PublishTimeoutError, TaskExpiredError


def _nonce(net: Any) -> int:
    return int(net.w3.eth.get_transaction_count(net.client))


def test_expired_before_upload_sends_nothing(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    uploads, nonce = net.devnet.ipfs.count("/file/create"), _nonce(net)
    with pytest.raises(TaskExpiredError) as info:
        publish_task(net.task_info(source, {"text": "late"}, expires_in=0), net.client_key)
    assert info.value.expiry <= net.now()
    assert net.devnet.ipfs.count("/file/create") == uploads  # refused before the upload
    assert _nonce(net) == nonce and source.get_task_count() == 0


def test_expiry_passing_during_the_upload_is_refused_before_sending(
    net: Any, caplog: pytest.LogCaptureFixture
) -> None:
    source = net.publish_source()
    net.fund_client()
    info = net.task_info(source, {"text": "slow upload"}, expires_in=60)
    uploads, nonce = net.devnet.ipfs.count("/file/create"), _nonce(net)

    def travel_while_uploading() -> None:
        # The pinning service sleeps before answering; meanwhile the chain clock passes expiry.
        while net.devnet.ipfs.count("/file/create") == uploads:
            time.sleep(0.01)
        net.travel(120)

    net.devnet.ipfs.faults.latency = 0.5
    traveller = threading.Thread(target=travel_while_uploading, daemon=True)
    traveller.start()
    try:
        with caplog.at_level(logging.WARNING, logger="ogpu"), pytest.raises(TaskExpiredError):
            publish_task(info, net.client_key)
    finally:
        net.devnet.ipfs.faults.latency = 0.0
        traveller.join(10)
    assert net.devnet.ipfs.count("/file/create") == uploads + 1  # the upload did happen
    assert _nonce(net) == nonce  # ... but nothing was signed and sent
    assert source.get_task_count() == 0
    # nothing half-done silently: the user is told where the uploaded config is
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("task config was already uploaded to http" in w for w in warnings), warnings


def test_total_timeout_during_upload_raises_publish_timeout(net: Any) -> None:
    source = net.publish_source()
    net.fund_client()
    nonce = _nonce(net)
    net.devnet.ipfs.faults.latency = 2.0
    try:
        with pytest.raises(PublishTimeoutError) as info:
            publish_task(
                net.task_info(source, {"text": "x"}), net.client_key, total_timeout=0.5,
                ipfs_retries=0,
            )  # fmt: skip
    finally:
        net.devnet.ipfs.faults.latency = 0.0
    assert info.value.budget == 0.5
    assert _nonce(net) == nonce and source.get_task_count() == 0  # nothing sent


def test_failed_send_after_upload_names_the_url(net: Any, caplog: pytest.LogCaptureFixture) -> None:
    """The source is inactivated while the config uploads: the upload works, the chain
    refuses (what the pre-upload read can foresee is refused before the upload)."""
    from ogpu.client import inactivate_source

    source = net.publish_source()
    net.fund_client(key=net.client_key)
    uploads = net.devnet.ipfs.count("/file/create")

    def inactivate_while_uploading() -> None:
        while net.devnet.ipfs.count("/file/create") == uploads:
            time.sleep(0.01)
        inactivate_source(source, net.client_key)

    net.devnet.ipfs.faults.latency = 0.5
    other = threading.Thread(target=inactivate_while_uploading, daemon=True)
    other.start()
    try:
        with caplog.at_level(logging.WARNING, logger="ogpu"), pytest.raises(OGPUError) as info:
            publish_task(net.task_info(source, {"text": "x"}), net.client_key)
    finally:
        net.devnet.ipfs.faults.latency = 0.0
        other.join(10)
    assert net.devnet.ipfs.count("/file/create") == uploads + 1
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "task config was already uploaded to http" in notes
    assert any("already uploaded" in r.getMessage() for r in caplog.records)
    assert net.client_key.removeprefix("0x") not in str(info.value) + notes + caplog.text
    assert source.get_task_count() == 0
