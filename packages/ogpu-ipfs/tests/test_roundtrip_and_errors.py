"""ogpu.ipfs against the mock pinning service over real sockets: round trips and error paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ogpu.ipfs import (
    IPFSFetchError,
    IPFSGatewayError,
    IPFSIntegrityError,
    IPFSTimeoutError,
    IPFSTooLargeError,
    compute_cid,
    fetch_ipfs_bytes,
    fetch_ipfs_json,
    parse_ipfs_url,
    publish_bytes,
    publish_file,
    publish_to_ipfs,
)
from ogpu_devnet.ipfs import MockPinningService

BIG = bytes(range(256)) * 1200 + b"tail"  # 307204 bytes: two chunks
BACKENDS = ["ogpu", "kubo"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "data",
    [
        {"result": "cat", "confidence": 0.97, "nested": [1, {"ü": None}]},
        "plain text ✓",
        b"\x00\xffbin",
        BIG,
    ],
    ids=["dict", "str", "bytes", "multi-chunk"],
)
def test_round_trip(svc: MockPinningService, backend: str, data: Any) -> None:
    url = publish_to_ipfs(data, backend=backend)  # type: ignore[arg-type]
    cid, _ = parse_ipfs_url(url)
    assert url == f"{svc.gateway_url}/{cid}"
    if isinstance(data, dict):
        assert fetch_ipfs_json(url, verify=True) == data
        assert cid == compute_cid(json.dumps(data).encode())
    else:
        raw = data.encode() if isinstance(data, str) else data
        assert fetch_ipfs_bytes(url, verify=True, cache=False) == raw
        assert cid == compute_cid(raw)


def test_content_type_and_filename_are_kept(svc: MockPinningService, tmp_path: Any) -> None:
    import requests

    path = tmp_path / "picture.png"
    path.write_bytes(b"\x89PNG fake")
    url = publish_file(path)
    assert requests.get(url, timeout=5).headers["Content-Type"] == "image/png"
    url2 = publish_to_ipfs({"a": 1}, filename="response.json")
    assert requests.get(url2, timeout=5).headers["Content-Type"] == "application/json"


def test_fetch_by_ipfs_url_and_bare_cid_use_the_gateway(svc: MockPinningService) -> None:
    url = publish_bytes(b"gateway please")
    cid = parse_ipfs_url(url).cid
    assert fetch_ipfs_bytes(f"ipfs://{cid}", cache=False) == b"gateway please"
    assert fetch_ipfs_bytes(cid, cache=False, verify=True) == b"gateway please"


def test_endpoints_from_environment(
    svc: MockPinningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ogpu.ipfs

    ogpu.ipfs.configure(reset=True)
    monkeypatch.setenv("OGPU_IPFS_PUBLISH_URL", svc.publish_url)
    monkeypatch.setenv("OGPU_IPFS_GATEWAY", svc.gateway_url + "/")
    url = publish_to_ipfs({"env": True})
    assert url.startswith(svc.gateway_url)
    assert fetch_ipfs_json(parse_ipfs_url(url).cid) == {"env": True}


# -- error paths -------------------------------------------------------------------------------


def test_connection_refused(svc: MockPinningService, dead_url: str) -> None:
    with pytest.raises(IPFSFetchError) as info:
        publish_to_ipfs({"a": 1}, publish_url=f"{dead_url}/file/create", retries=1)
    assert dead_url in str(info.value)
    with pytest.raises(IPFSFetchError) as info2:
        fetch_ipfs_json(f"{dead_url}/ipfs/{compute_cid(b'x')}", retries=0)
    assert dead_url in str(info2.value)


def test_timeout(svc: MockPinningService) -> None:
    url = publish_bytes(b"slow")
    svc.faults.latency = 1.0
    with pytest.raises(IPFSTimeoutError) as info:
        fetch_ipfs_bytes(url, timeout=0.2, retries=1, cache=False)
    assert url in str(info.value)
    with pytest.raises(IPFSTimeoutError):
        publish_bytes(b"slow publish", timeout=0.2, retries=0)
    assert isinstance(info.value, IPFSFetchError) and isinstance(info.value, TimeoutError)


def test_overall_deadline(svc: MockPinningService) -> None:
    url = publish_bytes(b"deadline")
    svc.faults.latency = 1.0
    with pytest.raises(IPFSTimeoutError):
        fetch_ipfs_bytes(url, timeout=10, retries=5, deadline=0.3, cache=False)


def test_4xx_is_not_retried(svc: MockPinningService) -> None:
    svc.faults.fail_next(3, 400, path_prefix="/file/create")
    with pytest.raises(IPFSGatewayError) as info:
        publish_to_ipfs({"a": 1}, retries=2)
    assert info.value.status_code == 400
    assert svc.publish_url in str(info.value)
    assert svc.count("/file/create") == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_5xx_then_success(svc: MockPinningService, backend: str) -> None:
    svc.faults.fail_next(2, 503, path_prefix="/file/create" if backend == "ogpu" else "/api/v0")
    url = publish_to_ipfs({"retry": backend}, retries=2, backoff=0, backend=backend)  # type: ignore[arg-type]
    assert svc.count("/", "POST") == 3
    svc.faults.fail_next(1, 502, path_prefix="/ipfs/")
    assert fetch_ipfs_json(url, retries=1, cache=False) == {"retry": backend}
    assert svc.count("/ipfs/") == 2


def test_5xx_exhausts_retries(svc: MockPinningService) -> None:
    svc.faults.fail_next(5, 500, path_prefix="/file/create")
    with pytest.raises(IPFSGatewayError) as info:
        publish_to_ipfs({"a": 1}, retries=2, backoff=0)
    assert info.value.status_code == 500
    assert svc.count("/file/create") == 3


def test_429_with_retry_after_is_honoured(svc: MockPinningService) -> None:
    svc.faults.fail_next(1, 429, retry_after=0, path_prefix="/file/create")
    publish_to_ipfs({"a": 429}, retries=1)
    assert svc.count("/file/create") == 2


def test_429_retry_after_beyond_the_deadline_gives_up_at_once(svc: MockPinningService) -> None:
    svc.faults.fail_next(1, 429, retry_after=120, path_prefix="/file/create")
    with pytest.raises(IPFSGatewayError) as info:
        publish_to_ipfs({"a": 1}, retries=3, deadline=5)
    assert (info.value.status_code, info.value.retry_after) == (429, 120)
    assert svc.count("/file/create") == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("this is not json", "not JSON"),
        ('{"cid": "Qm"}', "no 'link'"),
        ('["link"]', "no 'link'"),
        ('{"link": "https://example.com/file.json"}', "not an IPFS URL"),
    ],
    ids=["non-json", "missing-link", "not-object", "link-not-ipfs"],
)
def test_malformed_publish_answers_fail_at_once(
    svc: MockPinningService, body: str, reason: str
) -> None:
    svc.faults.respond_next(3, 200, body, path_prefix="/file/create")
    with pytest.raises(IPFSGatewayError) as info:
        publish_to_ipfs({"a": 1}, retries=2)
    assert reason in str(info.value)
    assert svc.count("/file/create") == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [("nope", "not JSON"), ('{"Name": "x"}', "no 'Hash'"), ('{"Hash": "zz"}', "not a CID")],
)
def test_malformed_kubo_answers(svc: MockPinningService, body: str, reason: str) -> None:
    svc.faults.respond_next(1, 200, body, path_prefix="/api/v0/add")
    with pytest.raises(IPFSGatewayError, match=reason):
        publish_to_ipfs({"a": 1}, backend="kubo")


@pytest.mark.parametrize("backend", BACKENDS)
def test_wrong_cid_in_link(svc: MockPinningService, backend: str) -> None:
    svc.faults.wrong_link = True
    with pytest.raises(IPFSIntegrityError) as info:
        publish_to_ipfs({"a": 1}, backend=backend)  # type: ignore[arg-type]
    assert info.value.actual_cid == compute_cid(b'{"a": 1}')
    assert info.value.url in str(info.value)


@pytest.mark.parametrize("stream", [False, True], ids=["content-length", "no-content-length"])
def test_oversize_body(svc: MockPinningService, stream: bool) -> None:
    url = publish_bytes(BIG)
    svc.reset_counts()
    svc.faults.omit_content_length = stream
    with pytest.raises(IPFSTooLargeError) as info:
        fetch_ipfs_bytes(url, max_bytes=100_000, cache=False)
    assert info.value.limit == 100_000 and url in str(info.value)
    assert svc.count("/ipfs/") == 1  # not retried
    assert fetch_ipfs_bytes(url, cache=False) == BIG  # under the default cap, streamed whole


def test_non_json_body(svc: MockPinningService) -> None:
    url = publish_bytes(b"\xff\x00 not json")
    with pytest.raises(IPFSFetchError, match="invalid JSON") as info:
        fetch_ipfs_json(url)
    assert url in str(info.value)


def test_unknown_cid_is_a_gateway_404(svc: MockPinningService) -> None:
    with pytest.raises(IPFSGatewayError) as info:
        fetch_ipfs_json(f"{svc.gateway_url}/{compute_cid(b'never published')}")
    assert info.value.status_code == 404
    assert svc.count("/ipfs/") == 1


@pytest.mark.parametrize("data", [b"small corrupt", BIG], ids=["one-block", "multi-block"])
def test_corrupt_bytes_with_verify(svc: MockPinningService, data: bytes) -> None:
    url = publish_bytes(data)
    svc.faults.corrupt = True
    assert fetch_ipfs_bytes(url, cache=False) != data  # without verify nothing notices
    with pytest.raises(IPFSIntegrityError) as info:
        fetch_ipfs_bytes(url, verify=True, cache=False)
    assert url in str(info.value)
    svc.faults.corrupt_blocks = True
    with pytest.raises(IPFSIntegrityError, match="fails its hash"):
        fetch_ipfs_bytes(url, verify=True, cache=False)


def test_non_default_dag_is_verified_block_by_block(svc: MockPinningService) -> None:
    data = bytes(range(256)) * 40  # 10240 bytes
    cid = svc.add(data, chunk_size=1024)  # like `ipfs add --chunker=size-1024`
    assert cid != compute_cid(data)
    assert fetch_ipfs_bytes(cid, verify=True, cache=False) == data
    assert svc.count("/ipfs/") == 1 + 1 + 10  # content, root block, 10 leaf blocks
    svc.faults.corrupt = True
    with pytest.raises(IPFSIntegrityError):
        fetch_ipfs_bytes(cid, verify=True, cache=False)
