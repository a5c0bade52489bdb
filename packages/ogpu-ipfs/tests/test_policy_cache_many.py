"""URL policy, redirects, the content-addressed cache and fetch_many, over real sockets."""

from __future__ import annotations

import ogpu.ipfs
import pytest
from ogpu.ipfs import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSError,
    IPFSFetchError,
    IPFSGatewayError,
    compute_cid,
    fetch_ipfs_bytes,
    fetch_ipfs_json,
    fetch_many,
    parse_ipfs_url,
    publish_bytes,
    publish_to_ipfs,
)
from ogpu_devnet.ipfs import MockPinningService


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/ipfs/x", "gopher://h/", "data:,hello"]
)
def test_non_http_schemes_are_never_fetched(url: str) -> None:
    with pytest.raises((IPFSFetchError, IPFSAddressError)):
        fetch_ipfs_bytes(url)


def test_redirect_to_non_http_is_refused(svc: MockPinningService) -> None:
    url = publish_bytes(b"redirected")
    svc.faults.respond_next(
        1, 302, headers={"Location": "file:///etc/passwd"}, path_prefix="/ipfs/"
    )
    with pytest.raises(IPFSFetchError, match="non-http"):
        fetch_ipfs_bytes(url, cache=False)


def test_http_redirect_is_followed_under_direct_policy(svc: MockPinningService) -> None:
    url = publish_bytes(b"moved")
    svc.faults.respond_next(1, 307, headers={"Location": url}, path_prefix="/ipfs/")
    assert fetch_ipfs_bytes(url, cache=False) == b"moved"


def test_gateway_policy_rewrites_recognised_urls(svc: MockPinningService, dead_url: str) -> None:
    url = publish_bytes(b"by cid")
    cid = parse_ipfs_url(url).cid
    hostile = f"{dead_url}/ipfs/{cid}"  # e.g. read from the chain
    with pytest.raises(IPFSFetchError):
        fetch_ipfs_bytes(hostile, retries=0, cache=False)  # direct: goes where it points
    assert fetch_ipfs_bytes(hostile, url_policy="gateway", cache=False) == b"by cid"
    subdomain = f"http://{cid}.ipfs.evil.example/"
    assert fetch_ipfs_bytes(subdomain, url_policy="gateway", cache=False) == b"by cid"


def test_gateway_policy_refuses_redirects_off_the_gateway(
    svc: MockPinningService, dead_url: str
) -> None:
    url = publish_bytes(b"stay")
    svc.faults.respond_next(1, 302, headers={"Location": f"{dead_url}/x"}, path_prefix="/ipfs/")
    with pytest.raises(IPFSFetchError, match="trusted gateway"):
        fetch_ipfs_bytes(url, url_policy="gateway", cache=False)


def test_strict_policy_refuses_non_ipfs_urls(svc: MockPinningService) -> None:
    health = f"{svc.base_url}/health"
    assert fetch_ipfs_json(health)["ok"] is True  # direct: plain URLs still work (compat)
    with pytest.raises(IPFSAddressError):
        fetch_ipfs_json(health, url_policy="strict")
    with pytest.raises(IPFSAddressError, match="no CID"):
        fetch_ipfs_json(health, verify=True)


def test_cache_hit_costs_no_request(svc: MockPinningService) -> None:
    url = publish_to_ipfs({"cached": True})
    svc.reset_counts()
    assert fetch_ipfs_json(url, verify=True) == {"cached": True}
    assert svc.count("/ipfs/") == 1
    assert fetch_ipfs_json(url, verify=True) == {"cached": True}
    cid = parse_ipfs_url(url).cid
    assert fetch_ipfs_json(f"ipfs://{cid}") == {"cached": True}  # verified entry: any form
    assert svc.count("/ipfs/") == 1
    fetch_ipfs_json(url, cache=False)
    assert svc.count("/ipfs/") == 2


def test_unverified_entries_only_serve_unverified_fetches(svc: MockPinningService) -> None:
    url = publish_bytes(b"unverified")
    svc.reset_counts()
    fetch_ipfs_bytes(url)
    fetch_ipfs_bytes(url)
    assert svc.count("/ipfs/") == 1
    fetch_ipfs_bytes(url, verify=True)  # an unverified entry is not good enough
    assert svc.count("/ipfs/") == 2


def test_cache_directory(svc: MockPinningService, tmp_path: object) -> None:
    ogpu.ipfs.configure(cache_dir=str(tmp_path))
    url = publish_bytes(b"on disk")
    fetch_ipfs_bytes(url, verify=True)
    ogpu.ipfs.clear_cache()
    svc.reset_counts()
    assert fetch_ipfs_bytes(url, verify=True) == b"on disk"
    assert svc.count("/ipfs/") == 0


def test_cache_disabled(svc: MockPinningService) -> None:
    ogpu.ipfs.configure(cache_max_bytes=0)
    url = publish_bytes(b"no cache")
    svc.reset_counts()
    fetch_ipfs_bytes(url, verify=True)
    fetch_ipfs_bytes(url, verify=True)
    assert svc.count("/ipfs/") == 2


def test_fetch_many_keeps_order_and_isolates_failures(svc: MockPinningService) -> None:
    good = [publish_to_ipfs({"i": i}) for i in range(6)]
    missing = f"{svc.gateway_url}/{compute_cid(b'missing')}"
    urls = [good[0], missing, "not an address at all", *good[1:], "file:///etc/passwd"]
    results = fetch_many(urls, max_workers=4, as_json=True, cache=False)
    assert len(results) == len(urls)
    assert results[0] == {"i": 0}
    assert isinstance(results[1], IPFSGatewayError) and results[1].status_code == 404
    assert isinstance(results[2], IPFSError)
    assert results[3:8] == [{"i": i} for i in range(1, 6)]
    assert isinstance(results[8], IPFSFetchError)
    raw = fetch_many(good[:2], verify=True)
    assert raw == [b'{"i": 0}', b'{"i": 1}']
    assert fetch_many([]) == []
    with pytest.raises(IPFSConfigError):
        fetch_many(good, max_workers=0)


@pytest.mark.parametrize(
    "change",
    [
        {"publish_url": "ftp://x"},
        {"backend": "s3"},
        {"url_policy": "yolo"},
        {"max_bytes": -1},
        {"timeout": 0},
        {"verify": "yes"},
        {"nonsense": 1},
    ],
)
def test_bad_settings_are_rejected_before_any_change(change: dict[str, object]) -> None:
    before = ogpu.ipfs.get_settings()
    with pytest.raises(IPFSConfigError):
        ogpu.ipfs.configure(**change)
    assert ogpu.ipfs.get_settings() == before


def test_bad_publish_input_raises_before_any_request(svc: MockPinningService) -> None:
    with pytest.raises(IPFSConfigError):
        publish_to_ipfs(42)  # type: ignore[arg-type]
    with pytest.raises(IPFSConfigError):
        publish_to_ipfs({"x": object()})
    with pytest.raises(IPFSConfigError):
        publish_to_ipfs({"a": 1}, timeout=-1)
    with pytest.raises(IPFSConfigError):
        ogpu.ipfs.publish_file("/nonexistent/file.bin")
    assert svc.count("/") == 0


def test_configure_reset_drops_only_the_named_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OGPU_IPFS_PUBLISH_URL", "http://env.example/file/create")
    ogpu.ipfs.configure(publish_url="http://a.example/file/create", max_bytes=1000)
    assert ogpu.ipfs.get_settings().publish_url == "http://a.example/file/create"
    for bad in ("no_such_field", 3, ("publish_url", 4)):
        with pytest.raises(IPFSConfigError):
            ogpu.ipfs.configure(reset=bad, max_bytes=5)
    assert ogpu.ipfs.get_settings().max_bytes == 1000  # nothing changed on bad input
    s = ogpu.ipfs.configure(reset="publish_url")
    assert (s.publish_url, s.max_bytes) == ("http://env.example/file/create", 1000)
    s = ogpu.ipfs.configure(reset=("max_bytes",), timeout=5)
    assert (s.max_bytes, s.timeout) == (ogpu.ipfs.DEFAULT_MAX_BYTES, 5)
    s = ogpu.ipfs.configure(reset=True)
    assert (s.publish_url, s.timeout) == ("http://env.example/file/create", 30.0)


def test_settings_object_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ogpu.ipfs.get_settings().publish_url == ogpu.ipfs.DEFAULT_PUBLISH_URL
    monkeypatch.setenv("OGPU_IPFS_MAX_BYTES", "1234")
    monkeypatch.setenv("OGPU_IPFS_VERIFY", "1")
    s = ogpu.ipfs.get_settings()
    assert (s.max_bytes, s.verify) == (1234, True)
    ogpu.ipfs.configure(ogpu.ipfs.IPFSSettings(gateway="http://gw.example/ipfs"))
    assert ogpu.ipfs.get_settings().max_bytes == ogpu.ipfs.DEFAULT_MAX_BYTES
    assert ogpu.ipfs.get_settings().gateway == "http://gw.example/ipfs"
