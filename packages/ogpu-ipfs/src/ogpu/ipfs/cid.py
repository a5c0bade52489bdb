"""Content identifiers and the ``ipfs add`` DAG builder (public; stable within a minor version).

For code that must address content exactly as ogpu-ipfs does (the devnet's pinning service,
your own gateway or cache):

- :func:`compute_cid` gives the CIDv0 of ``ipfs add`` with default settings;
- :func:`build_dag` builds that DAG and hands every block to ``on_block(cid, block)``, leaves
  first (a pinning service keeps them to serve ``?format=raw``);
- :func:`decode_cid` / :func:`is_cid` read CIDv0 and CIDv1 text; :func:`cid_v0` spells a
  sha2-256 multihash as ``Qm...``.

Example::

    >>> from ogpu.ipfs.cid import build_dag
    >>> blocks = {}
    >>> build_dag(b"hello", on_block=blocks.__setitem__)
    'QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX'
"""

from __future__ import annotations

from ogpu.ipfs._cid import (
    CHUNK_SIZE,
    CID,
    DAG_PB,
    MAX_LINKS,
    RAW,
    BlockSink,
    build_dag,
    cid_v0,
    cid_v1,
    compute_cid,
    decode_cid,
    is_cid,
)

__all__ = [
    "CHUNK_SIZE",
    "CID",
    "DAG_PB",
    "MAX_LINKS",
    "RAW",
    "BlockSink",
    "build_dag",
    "cid_v0",
    "cid_v1",
    "compute_cid",
    "decode_cid",
    "is_cid",
]
