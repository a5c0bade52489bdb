"""Sentry: on only when the DSN is set and sentry-sdk importable; FAIL/TIMEOUT lines reported."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import ogpu.service._logging as service_logging
import pytest
from ogpu.service import logger


@pytest.fixture
def sentry_off() -> Iterator[None]:
    yield
    service_logging._sentry = None


def test_no_dsn_no_sentry(sentry_off: None) -> None:
    assert service_logging.setup_sentry(None, release="r", tags={}) is False
    assert service_logging._sentry is None


def test_a_dsn_without_sentry_sdk_is_a_warning_not_a_crash(
    sentry_off: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # "not installed"
    with caplog.at_level("WARNING", logger="ogpu.service"):
        logger.propagate = True
        try:
            assert (
                service_logging.setup_sentry("https://k@sentry.example/1", release="r", tags={})
                is False
            )
        finally:
            logger.propagate = False
    assert "sentry-sdk is not installed" in caplog.text
    logger.task_fail("still fine")  # no Sentry, no error


def test_with_sentry_sdk_fail_and_timeout_lines_are_captured(
    sentry_off: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Any, Any]] = []
    fake = types.ModuleType("sentry_sdk")
    fake.init = lambda **kw: calls.append(("init", kw["dsn"], kw["release"]))  # type: ignore[attr-defined]
    fake.set_tag = lambda k, v: calls.append(("tag", k, v))  # type: ignore[attr-defined]
    fake.capture_message = lambda text, level: calls.append(("message", text, level))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sentry_sdk", fake)
    enabled = service_logging.setup_sentry(
        "https://k@sentry.example/1", release="ogpu-service@0.3.0", tags={"source_address": "0xS"}
    )
    assert enabled is True
    logger.task_success("fine")
    logger.task_fail("handler %s broke", "analyze")
    logger.task_timeout("too slow")
    assert calls == [
        ("init", "https://k@sentry.example/1", "ogpu-service@0.3.0"),
        ("tag", "source_address", "0xS"),
        ("message", "handler analyze broke", "error"),
        ("message", "too slow", "warning"),
    ]
