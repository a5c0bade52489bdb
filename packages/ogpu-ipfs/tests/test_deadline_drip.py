"""A deadline is a wall-clock bound on the whole publish or fetch, also against a server
that drips one byte every 100 ms (each socket read succeeds, so no read ever times out)."""

from __future__ import annotations

import time

import pytest
from ogpu.ipfs import IPFSTimeoutError, fetch_ipfs_bytes, publish_bytes
from ogpu_devnet.ipfs import MockPinningService

BOUND = 4.0  # the unbounded calls took 14-20 s; ~1 s is expected, slack for a loaded machine


@pytest.mark.parametrize("drip_headers", [True, False], ids=["head-and-body", "body-only"])
def test_fetch_deadline_against_a_drip(svc: MockPinningService, drip_headers: bool) -> None:
    cid = svc.add(b"x" * 10_000)
    svc.faults.drip = 0.1
    svc.faults.drip_headers = drip_headers
    started = time.monotonic()
    with pytest.raises(IPFSTimeoutError) as err:
        fetch_ipfs_bytes(cid, deadline=1, timeout=30, retries=0, cache=False)
    elapsed = time.monotonic() - started
    assert 0.9 <= elapsed < BOUND, elapsed
    assert "deadline" in str(err.value)


@pytest.mark.parametrize("drip_headers", [True, False], ids=["head-and-body", "body-only"])
def test_publish_deadline_against_a_drip(svc: MockPinningService, drip_headers: bool) -> None:
    svc.faults.drip = 0.1
    svc.faults.drip_headers = drip_headers
    started = time.monotonic()
    with pytest.raises(IPFSTimeoutError):
        publish_bytes(b"payload", deadline=1, timeout=30, retries=2)
    assert 0.9 <= time.monotonic() - started < BOUND


def test_the_session_works_after_a_deadline_cut_a_connection(svc: MockPinningService) -> None:
    cid = svc.add(b"y" * 1000)
    svc.faults.drip = 0.1
    with pytest.raises(IPFSTimeoutError):
        fetch_ipfs_bytes(cid, deadline=0.5, retries=0, cache=False)
    svc.faults.drip = 0.0
    for _ in range(3):
        assert fetch_ipfs_bytes(cid, cache=False) == b"y" * 1000


def test_a_slow_but_timely_answer_is_not_cut(svc: MockPinningService) -> None:
    cid = svc.add(b"z" * 5)
    svc.faults.drip = 0.002  # the whole answer in well under the deadline
    assert fetch_ipfs_bytes(cid, deadline=20, cache=False) == b"z" * 5
