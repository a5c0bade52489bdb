"""The IPFS address parser: examples and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ogpu.ipfs import IPFSAddress, IPFSAddressError, compute_cid, parse_ipfs_url

CID0 = "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
CID1 = "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354"


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (CID0, (CID0, "")),
        (CID1, (CID1, "")),
        (f"  {CID0}\n", (CID0, "")),
        (f"/ipfs/{CID0}", (CID0, "")),
        (f"/ipfs/{CID0}/a/b.json", (CID0, "/a/b.json")),
        (f"ipfs://{CID0}", (CID0, "")),
        (f"ipfs://{CID0}/dir/file.json", (CID0, "/dir/file.json")),
        (f"https://cipfs.ogpuscan.io/ipfs/{CID0}", (CID0, "")),
        (f"https://cipfs.ogpuscan.io/ipfs/{CID0}/", (CID0, "")),
        (f"http://127.0.0.1:8080/ipfs/{CID0}/x?filename=y", (CID0, "/x")),
        (f"https://{CID1}.ipfs.dweb.link", (CID1, "")),
        (f"https://{CID1}.ipfs.dweb.link/a.json", (CID1, "/a.json")),
        (f"http://{CID1}.ipfs.localhost:8080/a", (CID1, "/a")),
    ],
)
def test_accepted_forms(address: str, expected: tuple[str, str]) -> None:
    parsed = parse_ipfs_url(address)
    assert parsed == expected
    assert isinstance(parsed, IPFSAddress)
    assert (parsed.cid, parsed.path) == expected


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "hello",
        "Qm123",
        "https://example.com/file.json",
        "https://example.com/ipfs/",
        "https://example.com/ipfs/not-a-cid",
        f"ftp://host/ipfs/{CID0}",
        f"file:///ipfs/{CID0}",
        f"javascript:{CID0}",
        f"{CID0}/path",
        f"ipfs://{CID0[:-1]}",
        f"https://notacid.ipfs.dweb.link/{CID0}",
        f"https://host/ipfs/{CID0} /x",
    ],
)
def test_rejected_forms(address: str) -> None:
    with pytest.raises(IPFSAddressError) as info:
        parse_ipfs_url(address)
    assert isinstance(info.value, ValueError)  # typed twin of ValueError


def test_rejects_non_strings() -> None:
    with pytest.raises(IPFSAddressError):
        parse_ipfs_url(None)  # type: ignore[arg-type]


cids = st.binary(max_size=64).map(compute_cid)
segments = st.text(
    alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="-_."),
    min_size=1,
    max_size=12,
).filter(lambda s: s not in (".", ".."))
paths = st.lists(segments, max_size=4).map(lambda parts: "".join(f"/{p}" for p in parts))
hosts = st.sampled_from(["cipfs.ogpuscan.io", "127.0.0.1:5001", "gw.example.org", "localhost"])


@given(cid=cids, path=paths, host=hosts, scheme=st.sampled_from(["http", "https"]))
def test_every_form_yields_the_same_cid_and_path(
    cid: str, path: str, host: str, scheme: str
) -> None:
    forms = [f"{scheme}://{host}/ipfs/{cid}{path}", f"ipfs://{cid}{path}", f"/ipfs/{cid}{path}"]
    for form in forms:
        assert parse_ipfs_url(form) == (cid, path)
    if not path:
        assert parse_ipfs_url(cid) == (cid, "")


@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_the_typed_error(text: str) -> None:
    try:
        cid, path = parse_ipfs_url(text)
    except IPFSAddressError:
        return
    assert cid in text
    assert path == "" or path.startswith("/")


@given(cid=cids)
def test_a_corrupted_cid_is_rejected(cid: str) -> None:
    broken = cid[:10] + ("0" if cid[10] != "0" else "O") + cid[11:]  # 0 and O are not base58
    with pytest.raises(IPFSAddressError):
        parse_ipfs_url(f"https://gw/ipfs/{broken}")
