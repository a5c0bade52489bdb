"""Hostile input: time to reject hostile JSON bodies, and deadlines against a slow drip.

- JSON: ``ogpu.ipfs._json.loads`` (also the RpcClient's decoder) on bodies built to defeat a
  depth pre-scan (more brackets than the depth limit, then an unterminated string of escaped
  quotes), 80 KiB and 1 MiB; "before" is the pre-scan this tree replaced (a regular
  expression requiring the closing quote: every later quote restarted a scan to the end),
  reproduced here; its 1 MiB time is extrapolated from 20/40/80 KiB (quadratic fit), since
  one run takes about an hour.
- Deadline: ``fetch_ipfs_bytes(deadline=1)`` and ``publish_bytes(deadline=1)`` against the
  mock pinning service dripping one byte every 100 ms.

Nothing here asserts a timing.
"""

from __future__ import annotations

import contextlib
import re
import sys
import time
from collections.abc import Callable

KIB = 1024


def hostile(size: int) -> bytes:
    head = b"[]" * 1100 + b'"'
    return (head + b'\\"' * size)[:size]


def old_too_deep(body: bytes, max_depth: int = 1000) -> bool:
    """The replaced pre-scan (quadratic on unterminated strings)."""
    if body.count(b"[") + body.count(b"{") <= max_depth:
        return False
    tokens = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]|[\]}]')
    depth = 0
    for match in tokens.finditer(body):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > max_depth:
                return True
        elif token in (b"]", b"}"):
            depth -= 1
    return False


def reject_time(decode: Callable[[bytes], object], body: bytes) -> float:
    start = time.perf_counter()
    with contextlib.suppress(ValueError):
        decode(body)
    return time.perf_counter() - start


def old_loads(body: bytes) -> object:
    import json

    if old_too_deep(body):
        raise ValueError("too deep")
    return json.loads(body)


def main() -> int:
    from ogpu.ipfs import IPFSTimeoutError, _json, fetch_ipfs_bytes, publish_bytes
    from ogpu_devnet.ipfs import MockPinningService

    print("time to reject a hostile JSON body (one run each):")
    after = {n: reject_time(_json.loads, hostile(n)) for n in (80 * KIB, 1024 * KIB)}
    small = {n: reject_time(old_loads, hostile(n)) for n in (20 * KIB, 40 * KIB, 80 * KIB)}
    # quadratic fit through the origin on the largest point
    before_1m = small[80 * KIB] * (1024 / 80) ** 2
    print(f"  80 KiB   before {small[80 * KIB]:8.2f} s   after {after[80 * KIB] * 1000:7.1f} ms")
    print(f"  1 MiB    before ~{before_1m / 60:6.0f} min (extrapolated: 20 KiB {small[20 * KIB]:.2f} s,"
          f" 40 KiB {small[40 * KIB]:.2f} s, 80 KiB {small[80 * KIB]:.2f} s)"
          f"   after {after[1024 * KIB] * 1000:7.1f} ms")  # fmt: skip

    print("deadline=1 against a server dripping 1 byte / 100 ms:")
    with MockPinningService() as svc:
        cid = svc.add(b"x" * 10_000)
        for drip_headers in (True, False):
            svc.faults.drip, svc.faults.drip_headers = 0.1, drip_headers
            what = "head and body" if drip_headers else "body only"
            start = time.monotonic()
            with contextlib.suppress(IPFSTimeoutError):
                fetch_ipfs_bytes(cid, gateway=svc.gateway_url, deadline=1, timeout=30, cache=False)
            fetch_s = time.monotonic() - start
            start = time.monotonic()
            with contextlib.suppress(IPFSTimeoutError):
                publish_bytes(b"payload", publish_url=svc.publish_url, deadline=1, timeout=30)
            publish_s = time.monotonic() - start
            print(f"  drip {what:14s} fetch {fetch_s:5.2f} s   publish {publish_s:5.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
