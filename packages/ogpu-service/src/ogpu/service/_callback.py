"""Deliver one result to ``{CALLBACK_URL}/{task_address}``: retried, bounded, logged once.

A POST of the JSON body is retried on connection errors, timeouts, 5xx, 408, 425 and 429,
with exponential backoff (0.1 s doubling, at most 5 s between tries), until it succeeds (any
2xx) or ``deadline`` seconds have passed since the first try. Other 4xx answers are final (the
receiver said no; trying again would not change its mind). Only the final failure is logged,
once, at FAIL level. Standard library only: nothing for a source image to install.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ogpu.service._logging import logger

RETRYABLE_STATUS = frozenset({408, 425, 429})
_FIRST_BACKOFF = 0.1
_MAX_BACKOFF = 5.0
_MAX_REQUEST_TIMEOUT = 10.0


def callback_target(callback_url: str, task_address: str) -> str:
    """``{callback_url}/{task_address}``, the address quoted as one path segment."""
    return f"{callback_url.rstrip('/')}/{urllib.parse.quote(task_address, safe='')}"


def deliver(url: str, body: Any, deadline: float) -> bool:
    """POST ``body`` as JSON to ``url``; return True once a 2xx answer came, False if none did."""
    data = json.dumps(body, allow_nan=False).encode()
    start = time.monotonic()
    backoff = _FIRST_BACKOFF
    tries = 0
    last = ""
    while True:
        tries += 1
        remaining = deadline - (time.monotonic() - start)
        request = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        retry = True
        try:
            timeout = max(0.05, min(_MAX_REQUEST_TIMEOUT, remaining))
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                answer.read()
                return True  # urlopen raises HTTPError for anything but 2xx/3xx-followed
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            retry = exc.code >= 500 or exc.code in RETRYABLE_STATUS
        except (OSError, ValueError) as exc:  # refused, reset, timed out, bad URL
            last = f"{type(exc).__name__}: {exc}"
        remaining = deadline - (time.monotonic() - start)
        if not retry or remaining <= 0:
            break
        time.sleep(min(backoff, remaining))
        backoff = min(backoff * 2, _MAX_BACKOFF)
    logger.task_fail(
        "callback to %s not delivered after %d tries in %.1f s: %s",
        url,
        tries,
        time.monotonic() - start,
        last,
    )
    return False
