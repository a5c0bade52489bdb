"""A pinning service whose CIDs we do not compute (another chunking, raw leaves, CIDv1).

Nobody knows whether OGPU's pinning service builds the DAG as ``ipfs add`` does. A publish
whose link CID differs from ours is verified by content (the link fetched once, its bytes
compared with the bytes sent) and fails only when the bytes differ; fetches with
``verify=True`` check such CIDs block by block.
"""

from __future__ import annotations

import pytest
from ogpu.ipfs import (
    IPFSGatewayError,
    IPFSIntegrityError,
    compute_cid,
    fetch_ipfs_bytes,
    fetch_ipfs_json,
    parse_ipfs_url,
    publish_bytes,
    publish_to_ipfs,
)
from ogpu.ipfs._cid import decode_cid
from ogpu_devnet.ipfs import MockPinningService

SMALL = b'{"function_name": "predict", "data": {"text": "a good day"}}'
LARGE = bytes(range(256)) * 1300  # 332,800 bytes: two chunks with ipfs add's 256 KiB

MODES = {
    "1MiB-chunks": {"chunk_size": 1024 * 1024},
    "small-chunks": {"chunk_size": 16},
    "raw-leaves-v1": {"chunk_size": 64 * 1024, "raw_leaves": True, "cid_version": 1},
    "small-chunks-raw-leaves-v1": {"chunk_size": 16, "raw_leaves": True, "cid_version": 1},
    "v1-same-dag": {"chunk_size": 256 * 1024, "cid_version": 1},
}


def _differs(link: str, data: bytes) -> bool:
    cid = decode_cid(parse_ipfs_url(link).cid)
    return cid.multihash != decode_cid(compute_cid(data)).multihash


CASES = [
    (mode, data)
    for mode in sorted(MODES)
    for data in (SMALL, LARGE)
    if not (data is LARGE and MODES[mode]["chunk_size"] < 1024)  # 20,000 block requests
]


@pytest.mark.parametrize(("mode", "data"), CASES, ids=[f"{m}-{len(d)}" for m, d in CASES])
def test_publish_and_verified_fetch_in_other_layouts(
    svc: MockPinningService, mode: str, data: bytes
) -> None:
    svc.faults.other_chunking(**MODES[mode])
    link = publish_bytes(data)
    gets = svc.count("/ipfs/", "GET")
    cid = decode_cid(parse_ipfs_url(link).cid)
    # The content check costs one GET exactly when the CID is not provably ours.
    provable = not _differs(link, data) or (cid.codec == 0x55 and len(data) <= 64 * 1024)
    assert gets == (0 if provable else 1)
    assert fetch_ipfs_bytes(link, verify=True, cache=False) == data


def test_the_other_layouts_give_other_cids(svc: MockPinningService) -> None:
    seen = set()
    for mode in ("1MiB-chunks", "raw-leaves-v1", "small-chunks"):
        svc.faults.other_chunking(**MODES[mode])
        link = publish_bytes(LARGE)  # one GET to compare; no block-by-block fetch
        assert _differs(link, LARGE)
        seen.add(parse_ipfs_url(link).cid)
    svc.faults.other_chunking(**MODES["raw-leaves-v1"])
    assert parse_ipfs_url(publish_bytes(LARGE)).cid.startswith("bafybei")
    assert len(seen) == 3


def test_json_publish_and_fetch_in_another_layout(svc: MockPinningService) -> None:
    svc.faults.other_chunking(16, raw_leaves=True, cid_version=1)
    doc = {"result": "cat", "confidence": 0.97, "pad": "x" * 100}
    url = publish_to_ipfs(doc, filename="response.json")
    assert parse_ipfs_url(url).cid.startswith("bafy")
    assert fetch_ipfs_json(url, verify=True, cache=False) == doc


def test_content_that_differs_is_an_integrity_error(svc: MockPinningService) -> None:
    svc.faults.other_chunking(16)
    svc.faults.corrupt = True  # the link serves other bytes than were uploaded
    with pytest.raises(IPFSIntegrityError) as err:
        publish_bytes(SMALL)
    assert "differs" in str(err.value)
    assert err.value.actual_cid == compute_cid(SMALL)
    assert svc.count("/ipfs/", "GET") == 1


def test_a_link_serving_more_bytes_is_an_integrity_error(svc: MockPinningService) -> None:
    svc.faults.other_chunking(16)
    svc.faults.respond_next(1, 200, SMALL + b" ", path_prefix="/ipfs/")
    with pytest.raises(IPFSIntegrityError):
        publish_bytes(SMALL)


def test_a_wrong_cid_that_cannot_be_read_is_an_integrity_error(svc: MockPinningService) -> None:
    svc.faults.wrong_link = True  # a CID of other bytes, not stored anywhere
    with pytest.raises(IPFSIntegrityError) as err:
        publish_bytes(SMALL, retries=0)
    assert "could not be read" in str(err.value)
    assert svc.count("/ipfs/", "GET") == 1


@pytest.mark.parametrize("suffix", ["/extra", "/admin/x.json", "?filename=a", "#frag"], ids=str)
def test_a_link_with_the_right_cid_and_more_is_refused(
    svc: MockPinningService, suffix: str
) -> None:
    link = f"{svc.gateway_url}/{compute_cid(SMALL)}{suffix}"
    svc.faults.respond_next(1, 200, f'{{"link": "{link}"}}', path_prefix="/file/create")
    with pytest.raises(IPFSGatewayError) as err:
        publish_bytes(SMALL)
    assert "'link'" in str(err.value)


def test_a_link_with_user_info_is_refused(svc: MockPinningService) -> None:
    link = f"http://gw@127.0.0.1:{svc.port}/ipfs/{compute_cid(SMALL)}"
    svc.faults.respond_next(1, 200, f'{{"link": "{link}"}}', path_prefix="/file/create")
    with pytest.raises(IPFSGatewayError):
        publish_bytes(SMALL)


def test_raw_leaves_dag_is_the_known_raw_cid() -> None:
    from ogpu.ipfs._cid import build_dag

    # `ipfs add --raw-leaves` of b"hello": the raw block's CIDv1 (a widely published vector).
    assert build_dag(b"hello", raw_leaves=True) == (
        "bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq"
    )


def test_state_dir_keeps_other_layouts(tmp_path: object) -> None:
    with MockPinningService(state_dir=str(tmp_path)) as first:
        first.faults.other_chunking(16, raw_leaves=True, cid_version=1)
        link = publish_bytes(SMALL, publish_url=first.publish_url)
    cid = parse_ipfs_url(link).cid
    with MockPinningService(state_dir=str(tmp_path)) as again:
        assert again.has(cid)
        got = fetch_ipfs_bytes(cid, gateway=again.gateway_url, verify=True, cache=False)
        assert got == SMALL


def test_kubo_backend_answering_another_layout(svc: MockPinningService) -> None:
    svc.faults.other_chunking(16, raw_leaves=True, cid_version=1)
    link = publish_bytes(SMALL, backend="kubo")
    assert parse_ipfs_url(link).cid.startswith("bafy")
    assert svc.count("/ipfs/", "GET") == 1
    assert fetch_ipfs_bytes(link, verify=True, cache=False) == SMALL


def test_cli_serves_another_layout() -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "ogpu_devnet", "ipfs", "--port", "0", "--chunk-size", "16",
         "--raw-leaves", "--cid-version", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split(" at ", 1)[1].strip()
        link = publish_bytes(SMALL, publish_url=f"{base}/file/create")
        assert parse_ipfs_url(link).cid.startswith("bafy")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
