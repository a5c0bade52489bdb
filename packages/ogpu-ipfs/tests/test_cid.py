"""compute_cid against vectors from network.md and from an independent IPFS implementation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ogpu.ipfs import IPFSAddressError, IPFSConfigError, compute_cid
from ogpu.ipfs._cid import (
    b58decode,
    b58encode,
    build_dag,
    decode_block,
    decode_cid,
    link_to_cid,
)


def pattern(n: int) -> bytes:
    """The deterministic byte pattern of the vectors below: byte i is i % 251."""
    block = bytes(range(251))
    return (block * (n // 251 + 1))[:n]


def test_network_md_vectors() -> None:
    assert compute_cid(b"hello") == "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX"
    assert compute_cid(b"") == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"


# Generated with the JavaScript IPFS implementation, not this code:
#   npm install ipfs-unixfs-importer@17.1.1 blockstore-core@7.0.1 multiformats@14.0.5 (node 20),
#   importer([{content: pattern(size)}], new MemoryBlockstore(), {cidVersion: 0,
#   rawLeaves: false, leafType: 'file', reduceSingleLeafToSelf: true,
#   chunker: fixedSize({chunkSize: 262144}), layout: balanced({maxChildrenPerNode: 174})})
# where pattern(n)[i] = i % 251; the root CID of the last entry is recorded.
IMPORTER_VECTORS = [
    (5, "Qma4sWyoTiJKYx1wTjkxWY71dYg1oWgE7SE9oiTGqGnyoR"),
    (262144, "QmeqfRyS3vkku7n6krqC3DgGMex3x2sCpSeKMDmrG13QQq"),  # exactly one chunk
    (262145, "QmUSjGawaz4ptvREcMKSMJneWCa5j8dAz2wSAAvHtW2rnB"),  # two chunks, 1 byte in 2nd
    (300 * 1024, "QmTMdR3F3Dkc5fwGhVTHiruQUTbnVia6a8bFcdtK7Yh4hr"),
    (1024 * 1024 + 7, "QmRmxicYEPGNf4GtnnrndVdfUCE8jry8tvL3aFabLnShXw"),
    (174 * 262144, "QmXCym15aFeWjAWyPFaAgwVmkuKB7EBsV77Skt54KmxChF"),  # a full one-level root
    (175 * 262144 + 1, "QmfSNfmSo1Gg885jm8qFWAEe14nkjYc7bXgXjuvKWjVoKw"),  # two levels
]


@pytest.mark.parametrize(
    ("size", "cid"), IMPORTER_VECTORS, ids=[str(v[0]) for v in IMPORTER_VECTORS]
)
def test_independent_importer_vectors(size: int, cid: str) -> None:
    assert compute_cid(pattern(size)) == cid


# Same tool and options, but chunker fixedSize({chunkSize}) and balanced({maxChildrenPerNode})
# as listed: small trees three and four levels deep, checking the layout cheaply.
SMALL_TREE_VECTORS = [
    (10, 4, 3, "QmXMZ5UfXrpxbsVDsoccqbm82EtGiV8VzrJk6tyXGu2LUK"),
    (37, 4, 3, "QmYD7tcjqnMfeEXS4sRvUBevtzcpxRLCFKSD83NXVEmX2J"),
    (109, 4, 3, "QmThZomnMt4M1vQLJNm1BuHSnEQhK5j3Cv65eEpdoUGp3K"),
    (1000, 16, 5, "QmbusXyrZ4FWgy7mBLtqSDoN2WvBv3xfKabg8CwSuM7NVu"),
]


@pytest.mark.parametrize(("size", "chunk", "links", "cid"), SMALL_TREE_VECTORS)
def test_tree_shape_with_small_fanout(size: int, chunk: int, links: int, cid: str) -> None:
    assert build_dag(pattern(size), chunk_size=chunk, max_links=links) == cid


def test_blocks_decode_back_to_the_content() -> None:
    blocks: dict[str, bytes] = {}
    data = pattern(109)
    root = build_dag(data, chunk_size=4, max_links=3, on_block=blocks.__setitem__)

    def content(cid: str) -> bytes:
        node = decode_block(blocks[cid])
        return node.data + b"".join(content(link_to_cid(link).text) for link in node.links)

    assert content(root) == data


def test_compute_cid_rejects_non_bytes() -> None:
    with pytest.raises(IPFSConfigError):
        compute_cid("hello")  # type: ignore[arg-type]


@given(st.binary(max_size=64))
def test_base58_round_trip(data: bytes) -> None:
    assert b58decode(b58encode(data)) == data


def test_decode_cid_v0_and_v1() -> None:
    v0 = decode_cid("QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX")
    assert (v0.version, v0.codec, v0.is_sha256) == (0, 0x70, True)
    v1 = decode_cid("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354")
    assert (v1.version, v1.codec, v1.is_sha256) == (1, 0x70, True)
    # the well-known empty-directory CID, in both spellings
    assert v1.v0 == "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
    for bad in ("Qm", "QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaO", "hello", "bafy!!", ""):
        with pytest.raises(IPFSAddressError):
            decode_cid(bad)
