"""Logging (api.md "Logging"): silent by default, verbose on request with millisecond
timestamps, and no private key in any log line of a whole flow run at DEBUG."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from ogpu.client import confirm_response, publish_task, wait_for_response
from ogpu.types import DeliveryMethod
from ogpu_devnet.demo import analyze_text

import ogpu

LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} INFO ogpu\.client: hello$", re.MULTILINE)


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "OGPU_VERBOSE"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**clean, **env}, timeout=120,
    )  # fmt: skip


def test_ogpu_logger_is_silent_by_default() -> None:
    code = (
        "import logging, ogpu, ogpu.client\n"
        "root = logging.getLogger('ogpu')\n"
        "print(any(isinstance(h, logging.NullHandler) for h in root.handlers))\n"
        "logging.getLogger('ogpu.client').warning('should stay silent')\n"
    )
    result = _python(code)
    assert result.stdout.strip() == "True"
    assert result.stderr == ""  # the NullHandler keeps logging's last-resort handler quiet


def test_ogpu_verbose_env_gives_millisecond_timestamps() -> None:
    code = "import logging, ogpu.client; logging.getLogger('ogpu.client').info('hello')"
    assert LINE.search(_python(code, OGPU_VERBOSE="1").stderr)


def test_set_verbose_from_the_meta_package(capfd: pytest.CaptureFixture[str]) -> None:
    ogpu.set_verbose(True, logging.INFO)
    try:
        logging.getLogger("ogpu.client").info("hello")
        logging.getLogger("ogpu.client").debug("below the level")
    finally:
        ogpu.set_verbose(False)
    err = capfd.readouterr().err
    assert LINE.search(err) and "below the level" not in err
    logging.getLogger("ogpu.client").info("hello")
    assert capfd.readouterr().err == ""


def _secrets(key: Any) -> list[str]:
    raw = key if isinstance(key, str) else "0x" + bytes(key).hex()
    bare = raw.removeprefix("0x").lower()
    return [bare, bare.upper(), bare[:16]]  # also no recognisable fragment


def test_no_private_key_in_any_log_line_of_a_full_flow(
    net: Any, providers: Any, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The seed's whole flow with ``set_verbose(True)`` at DEBUG, every logger captured."""
    ogpu.set_verbose(True, logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):  # every logger: ogpu, ogpu_devnet, web3, urllib3
            source = net.publish_source(DeliveryMethod.MANUAL_CONFIRMATION)
            group = providers(analyze_text, sources=[source])
            net.fund_client()
            task = publish_task(net.task_info(source, {"text": "a good day"}), net.client_key)
            submitted = wait_for_response(task, timeout=60, poll_interval=0.05, confirmed=False)
            confirm_response(submitted.address, net.client_key)
            assert wait_for_response(task, timeout=30, poll_interval=0.05).fetch_data()
    finally:
        ogpu.set_verbose(False)
    captured = capfd.readouterr()
    text = "\n".join([captured.out, captured.err, caplog.text])
    assert "ogpu.client" in captured.err  # the verbose handler did write
    assert re.search(r"\d\d:\d\d:\d\d\.\d{3} ", captured.err)
    keys: list[Any] = [net.client_key, net.devnet.accounts[-1].private_key]
    for identity in group.runtime.identities:
        keys += [identity.provider.key, identity.master.key]
    for key in keys:
        for secret in _secrets(key):
            assert secret not in text, "a private key (or part of one) was logged"
    for identity in group.runtime.identities:
        assert identity.provider.key.hex().removeprefix("0x")[:16] not in repr(group)
