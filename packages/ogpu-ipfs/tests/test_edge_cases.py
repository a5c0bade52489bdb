"""Edge cases of retries, deadlines, the parser, verification, the cache and the pooled session.

Network tests talk to the mock pinning service over real sockets; nothing is mocked.
"""

from __future__ import annotations

import base64
import calendar
import contextlib
import socket
import sys
import time
from pathlib import Path

import ogpu.ipfs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from ogpu.ipfs import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSError,
    IPFSFetchError,
    IPFSGatewayError,
    IPFSTimeoutError,
    IPFSTooLargeError,
    OGPUError,
    fetch_ipfs_bytes,
    fetch_ipfs_json,
    fetch_many,
    parse_ipfs_url,
    publish_bytes,
    publish_to_ipfs,
)
from ogpu.ipfs._cid import decode_cid
from ogpu.ipfs._http import derived_deadline, retry_after_seconds
from ogpu_devnet.ipfs import MockPinningService

CID0 = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
# 2015-10-21 07:28:00 UTC, the RFC 9110 example date.
EXAMPLE_EPOCH = calendar.timegm((2015, 10, 21, 7, 28, 0, 0, 0, 0))


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


DEAD_GATEWAY = f"http://127.0.0.1:{_dead_port()}/ipfs"  # connection refused


def http_date(epoch: float) -> str:
    """``epoch`` as an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch))


# -- Retry-After parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0", 0.0),
        ("²", None),  # "²".isdigit() is True, but it is no number
        ("-1", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_delay_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 21 Oct 2015 07:28:00 GMT",  # IMF-fixdate
        "Wednesday, 21-Oct-15 07:28:00 GMT",  # obsolete RFC 850 form
        "Wed Oct 21 07:28:00 2015",  # obsolete asctime form: no zone, but GMT all the same
        "Wed, 21 Oct 2015 07:28:00 -0000",
    ],
)
def test_retry_after_http_dates_are_gmt_whatever_the_local_zone(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # UTC+9: a date read as local time is 9 h off
    time.tzset()
    try:
        assert retry_after_seconds(value, now=EXAMPLE_EPOCH - 90) == 90.0
        assert retry_after_seconds(value, now=EXAMPLE_EPOCH + 90) == 0.0  # past: retry now
    finally:
        monkeypatch.undo()
        time.tzset()


def test_429_with_an_http_date_beyond_the_deadline_gives_up_at_once(
    svc: MockPinningService,
) -> None:
    svc.faults.fail_next(1, 429, retry_after=http_date(time.time() + 600), path_prefix="/file")
    with pytest.raises(IPFSGatewayError) as info:
        publish_to_ipfs({"a": 1}, retries=3, deadline=5)
    assert info.value.status_code == 429
    assert info.value.retry_after is not None and info.value.retry_after > 500
    assert svc.count("/file/create") == 1


def test_429_with_a_past_http_date_is_retried(svc: MockPinningService) -> None:
    svc.faults.fail_next(1, 429, retry_after=http_date(EXAMPLE_EPOCH), path_prefix="/file")
    publish_to_ipfs({"a": "past"}, retries=1, backoff=0)
    assert svc.count("/file/create") == 2


def test_huge_retry_counts_do_not_overflow(dead_url: str) -> None:
    with pytest.raises(IPFSFetchError):
        fetch_ipfs_bytes(f"{dead_url}/ipfs/{CID0}", retries=100_000, backoff=0, deadline=0.3)
    assert derived_deadline(30, 100_000, 0.5) < float("inf")  # no OverflowError either


# -- the address parser --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        f"http://[::1/ipfs/{CID0}",  # unbalanced IPv6 bracket
        f"http://[zz]/ipfs/{CID0}",
        f"ipfs://{CID0}/../admin",
        f"ipfs://{CID0}/a/./b",
        f"https://gw.example/ipfs/{CID0}/%2e%2E/x",
        f"/ipfs/{CID0}/..",
        f"https://{CID0}.ipfs.gw.example/../x",
        "z" + "2" * 5000,  # a megabyte-class "CID" is refused before decoding
    ],
)
def test_more_rejected_forms(address: str) -> None:
    with pytest.raises(IPFSAddressError):
        parse_ipfs_url(address)


def test_dot_segments_cannot_escape_the_trusted_gateway(svc: MockPinningService) -> None:
    svc.reset_counts()
    for url in (f"ipfs://{CID0}/../../health", f"https://evil.example/ipfs/{CID0}/../x"):
        with pytest.raises((IPFSAddressError, IPFSFetchError)):
            fetch_ipfs_bytes(url, url_policy="strict")
    assert svc.count("/") == 0


url_ish = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(["http://", "https://", "ipfs://", "/ipfs/", "http://[", "https://a.ipfs."]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
)


@given(url_ish)
def test_url_like_text_parses_or_raises_the_typed_error(text: str) -> None:
    try:
        cid, path = parse_ipfs_url(text)
    except IPFSAddressError:
        return
    assert cid in text
    assert ".." not in path.split("/")


@given(url_ish)
def test_strict_fetch_of_url_like_text_raises_only_typed_errors(text: str) -> None:
    # strict policy + a dead gateway: whatever the text, no request leaves the machine and
    # nothing but an OGPUError comes out.
    with contextlib.suppress(OGPUError):
        fetch_ipfs_bytes(
            text, url_policy="strict", gateway=DEAD_GATEWAY, retries=0, timeout=1, cache=False
        )


def test_decode_cid_refuses_overlong_text() -> None:
    with pytest.raises(IPFSAddressError):
        decode_cid("b" + "a" * 10_000)


# -- verification, deadline, cache ---------------------------------------------------------------


def test_unverifiable_path_is_refused_before_any_request(svc: MockPinningService) -> None:
    svc.reset_counts()
    with pytest.raises(IPFSConfigError, match="path inside a directory"):
        fetch_ipfs_bytes(f"{svc.gateway_url}/{CID0}/a.json", verify=True)
    assert svc.count("/") == 0


def test_cidv1_content_is_served_and_verified(svc: MockPinningService) -> None:
    data = bytes(range(256)) * 1100  # two chunks
    v0 = svc.add(data)
    v1 = "b" + base64.b32encode(bytes((1, 0x70)) + decode_cid(v0).multihash).decode().lower()
    v1 = v1.rstrip("=")
    assert v1.startswith("bafybei") and decode_cid(v1).multihash == decode_cid(v0).multihash
    assert fetch_ipfs_bytes(f"{svc.gateway_url}/{v1}", verify=True, cache=False) == data
    svc.faults.corrupt = True
    with pytest.raises(ogpu.ipfs.IPFSIntegrityError):
        fetch_ipfs_bytes(v1, verify=True, cache=False)


def test_one_deadline_covers_block_by_block_verification(svc: MockPinningService) -> None:
    data = bytes(range(256)) * 40
    cid = svc.add(data, chunk_size=1024)  # 12 requests to verify: content, root, 10 leaves
    svc.reset_counts()
    svc.faults.latency = 0.1
    with pytest.raises(IPFSTimeoutError):
        fetch_ipfs_bytes(cid, verify=True, cache=False, deadline=0.45, timeout=5)
    assert svc.count("/ipfs/") < 12


def test_cached_content_still_obeys_the_size_cap(svc: MockPinningService) -> None:
    url = publish_bytes(b"x" * 5000)
    assert fetch_ipfs_bytes(url, verify=True) == b"x" * 5000
    svc.reset_counts()
    with pytest.raises(IPFSTooLargeError) as info:
        fetch_ipfs_bytes(url, max_bytes=100)
    assert info.value.limit == 100 and url in str(info.value)
    assert svc.count("/") == 0


def test_deeply_nested_json_is_a_typed_error(svc: MockPinningService) -> None:
    url = publish_bytes(b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(IPFSFetchError, match="JSON") as info:
        fetch_ipfs_json(url)
    assert url in str(info.value)


def test_unwritable_cache_dir_is_not_an_error(svc: MockPinningService, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    ogpu.ipfs.configure(cache_dir=str(blocker / "cache"))
    url = publish_bytes(b"cache dir unusable")
    assert fetch_ipfs_bytes(url, verify=True) == b"cache dir unusable"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


# -- fetch_many, settings, publish input -----------------------------------------------------------


def test_fetch_many_rejects_bad_options_before_any_request(svc: MockPinningService) -> None:
    urls = [f"{svc.gateway_url}/{CID0}"] * 3
    svc.reset_counts()
    for bad in ({"verfy": True}, {"timeout": -1}, {"url_policy": "yolo"}):
        with pytest.raises(IPFSConfigError):
            fetch_many(urls, **bad)
    with pytest.raises(IPFSConfigError):
        fetch_many(urls[0])
    assert svc.count("/") == 0


@pytest.mark.parametrize(
    "change",
    [
        {"timeout": float("nan")},
        {"timeout": float("inf")},
        {"backoff": float("nan")},
        {"deadline": float("inf")},
        {"deadline": float("nan")},
    ],
)
def test_non_finite_numbers_are_rejected(change: dict[str, float]) -> None:
    with pytest.raises(IPFSConfigError):
        ogpu.ipfs.configure(**change)


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("a\r\nX-Injected: 1", "application/json"), ("a.json", "text/plain\r\nX-Injected: 1")],
)
def test_header_injection_in_publish_is_refused(
    svc: MockPinningService, filename: str, content_type: str
) -> None:
    svc.reset_counts()
    with pytest.raises(IPFSConfigError):
        publish_bytes(b"x", filename, content_type)
    assert svc.count("/") == 0


def test_upload_over_the_service_limit_is_a_413_not_retried(svc: MockPinningService) -> None:
    svc.reset_counts()
    with pytest.raises(IPFSGatewayError) as info:
        publish_bytes(b"\0" * (svc.max_upload + 1), retries=2)
    assert info.value.status_code == 413 and svc.publish_url in str(info.value)
    assert svc.count("/file/create") == 1


# -- the pooled session --------------------------------------------------------------------------


def test_calls_share_one_pooled_connection(svc: MockPinningService) -> None:
    url = publish_to_ipfs({"pooled": True})
    svc.reset_counts()
    for _ in range(5):
        assert fetch_ipfs_json(url, cache=False) == {"pooled": True}
    publish_to_ipfs({"pooled": "again"})
    assert svc.count("/") == 6
    assert svc.connections <= 1  # kept alive: one connection (or the previous test's)


def test_many_threads_share_the_session_and_cache(svc: MockPinningService) -> None:
    docs = [{"n": i, "pad": "x" * (i * 37)} for i in range(40)]
    urls = [publish_to_ipfs(doc) for doc in docs]
    results = fetch_many(urls * 3, max_workers=16, as_json=True, verify=True)
    assert not [r for r in results if isinstance(r, IPFSError)]
    assert results == docs * 3
    assert svc.connections <= 16 + 1


def test_deep_json_is_refused_even_under_a_raised_recursion_limit(
    svc: MockPinningService,
) -> None:
    # py-evm raises the recursion limit on import; json.loads would then overflow the C stack.
    url = publish_bytes(b"{" + b'"a":[{' * 100_000 + b"}]" * 100_000 + b"}")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1_000_000)
    try:
        with pytest.raises(IPFSFetchError, match="nested more than"):
            fetch_ipfs_json(url)
        svc.faults.respond_next(1, 200, b"[" * 300_000, path_prefix="/file/create")
        with pytest.raises(IPFSGatewayError, match="not JSON"):
            publish_to_ipfs({"a": 1})
    finally:
        sys.setrecursionlimit(limit)
    nested = {"a": [{"b": [1, "[[[{{{"]}]}  # brackets inside strings do not count
    assert fetch_ipfs_json(publish_to_ipfs(nested)) == nested
