"""Content identifiers: the CIDv0 that ``ipfs add`` (default settings) gives, and CID decoding.

``ipfs add`` with default settings splits a file into 262144-byte chunks, wraps every chunk
in a dag-pb node whose Data is a UnixFS ``File`` message (no raw leaves), and links the
leaves into a balanced tree with at most 174 links per node; a one-chunk file is its own
root. The CID is base58btc(multihash sha2-256 of the root block). Protobuf, base58 and
base32 are hand-written here: a few dozen lines beat a dependency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from ogpu.ipfs._errors import IPFSAddressError, IPFSConfigError, MalformedDataError

CHUNK_SIZE = 262144
MAX_LINKS = 174

_SHA2_256 = 0x12
_DAG_PB = 0x70
_RAW = 0x55
_UNIXFS_FILE = 2
_UNIXFS_RAW = 0

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
#: Longest CID text accepted: real ones are under 100 characters, and decoding base58 is
#: quadratic, so an attacker-chosen megabyte "CID" must be refused before decoding.
MAX_CID_LENGTH = 256


# -- encodings -------------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise MalformedDataError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def b58encode(data: bytes) -> str:
    """Encode bytes in base58btc (Bitcoin alphabet)."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, rem = divmod(n, 58)
        out.append(_B58_ALPHABET[rem])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode base58btc; raises ``ValueError`` on a character outside the alphabet."""
    n = 0
    for char in text:
        if char not in _B58_INDEX:
            raise MalformedDataError(f"invalid base58 character {char!r}")
        n = n * 58 + _B58_INDEX[char]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def _field_bytes(field: int, value: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(value)) + value


def _field_varint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


# -- the DAG builder ---------------------------------------------------------------------------


class _Node(NamedTuple):
    multihash: bytes  # sha2-256 multihash of the block
    tsize: int  # block size plus the Tsize of every descendant
    filesize: int  # bytes of file content below this node
    link: bytes = b""  # the binary CID a parent links with ("": the bare multihash, CIDv0)


def _unixfs_file(data: bytes | None, filesize: int, blocksizes: list[int]) -> bytes:
    out = _field_varint(1, _UNIXFS_FILE)
    if data:
        out += _field_bytes(2, data)
    out += _field_varint(3, filesize)
    for size in blocksizes:
        out += _field_varint(4, size)
    return out


def _dag_pb(data: bytes, links: list[_Node]) -> bytes:
    # Canonical dag-pb: Links (field 2) before Data (field 1); Name "" is written.
    out = b""
    for link in links:
        pb_link = (
            _field_bytes(1, link.link or link.multihash)
            + _field_bytes(2, b"")
            + _field_varint(3, link.tsize)
        )
        out += _field_bytes(2, pb_link)
    return out + _field_bytes(1, data)


def _multihash(block: bytes) -> bytes:
    from hashlib import sha256  # here, not at import: fetch-only users never hash

    return bytes((_SHA2_256, 32)) + sha256(block).digest()


def cid_v0(multihash: bytes) -> str:
    """Return the CIDv0 string (``Qm...``) of a sha2-256 multihash."""
    return b58encode(multihash)


def cid_v1(codec: int, multihash: bytes) -> str:
    """Return the CIDv1 string (multibase base32, ``b...``) of ``codec`` and a multihash."""
    import base64

    raw = _varint(1) + _varint(codec) + multihash
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


BlockSink = Callable[[str, bytes], None]


def build_dag(
    data: bytes,
    *,
    chunk_size: int = CHUNK_SIZE,
    max_links: int = MAX_LINKS,
    on_block: BlockSink | None = None,
    raw_leaves: bool = False,
) -> str:
    """Build the ``ipfs add`` DAG of ``data``; return the root CID.

    ``on_block(cid, block)`` (optional) receives every block, leaves first; the mock pinning
    service uses it to keep the blocks it serves with ``?format=raw``. ``chunk_size`` and
    ``max_links`` exist so tests can check the tree shape at small sizes; the defaults are
    ``ipfs add``'s. ``raw_leaves=True`` builds what ``ipfs add --raw-leaves`` does: leaves
    are raw blocks (CIDv1, codec raw), so a one-chunk file's root is its raw block.

    The root is a CIDv0 (``Qm...``) unless it is a raw block (then a CIDv1 ``bafk...``).
    """
    builder = DagBuilder(
        chunk_size=chunk_size, max_links=max_links, on_block=on_block, raw_leaves=raw_leaves
    )
    builder.update(data)
    return builder.root()


class DagBuilder:
    """:func:`build_dag` fed piece by piece: content streamed to disk is hashed as it
    arrives, keeping only one chunk and one small record per leaf in memory.

    Example::

        builder = DagBuilder()
        for piece in pieces:
            builder.update(piece)
        cid = builder.root()  # == build_dag(b"".join(pieces))
    """

    def __init__(
        self,
        *,
        chunk_size: int = CHUNK_SIZE,
        max_links: int = MAX_LINKS,
        on_block: BlockSink | None = None,
        raw_leaves: bool = False,
    ) -> None:
        if chunk_size < 1 or max_links < 2:
            raise IPFSConfigError("chunk_size must be >= 1 and max_links >= 2")
        self._chunk_size = chunk_size
        self._max_links = max_links
        self._on_block = on_block
        self._raw_leaves = raw_leaves
        self._pending = bytearray()
        self._leaves: list[_Node] = []

    def _emit(self, block: bytes, filesize: int, tsize_below: int) -> _Node:
        mh = _multihash(block)
        if self._on_block is not None:
            self._on_block(cid_v0(mh), block)
        return _Node(mh, len(block) + tsize_below, filesize)

    def _leaf(self, chunk: bytes) -> None:
        if self._raw_leaves:
            mh = _multihash(chunk)
            if self._on_block is not None:
                self._on_block(cid_v1(_RAW, mh), chunk)
            node = _Node(mh, len(chunk), len(chunk), _varint(1) + _varint(_RAW) + mh)
        else:
            node = self._emit(_dag_pb(_unixfs_file(chunk, len(chunk), []), []), len(chunk), 0)
        self._leaves.append(node)

    def update(self, data: bytes) -> None:
        """Add the next bytes of the content."""
        size = self._chunk_size
        if not self._pending and len(data) >= size:
            view = memoryview(data)
            whole = len(data) - len(data) % size
            for start in range(0, whole, size):
                self._leaf(bytes(view[start : start + size]))
            self._pending += view[whole:]
            return
        self._pending += data
        if len(self._pending) >= size:
            view = memoryview(self._pending)
            whole = len(self._pending) - len(self._pending) % size
            for start in range(0, whole, size):
                self._leaf(bytes(view[start : start + size]))
            rest = bytes(view[whole:])
            view.release()
            self._pending = bytearray(rest)

    def root(self) -> str:
        """The root CID of everything added (call once, at the end)."""
        if self._pending or not self._leaves:  # empty content is one empty leaf
            self._leaf(bytes(self._pending))
            self._pending = bytearray()
        level = self._leaves
        # The balanced layout fills complete max_links-ary subtrees left to right, every leaf at
        # the same depth: exactly what grouping one level at a time gives.
        while len(level) > 1:
            parents = []
            for start in range(0, len(level), self._max_links):
                group = level[start : start + self._max_links]
                filesize = sum(n.filesize for n in group)
                unixfs = _unixfs_file(None, filesize, [n.filesize for n in group])
                parents.append(
                    self._emit(_dag_pb(unixfs, group), filesize, sum(n.tsize for n in group))
                )
            level = parents
        root = level[0]
        return cid_v1(_RAW, root.multihash) if root.link else cid_v0(root.multihash)


def compute_cid(data: bytes) -> str:
    """Return the CIDv0 that ``ipfs add`` with default settings gives for ``data``.

    Example::

        >>> compute_cid(b"hello")
        'QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX'
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise IPFSConfigError(f"compute_cid expects bytes, got {type(data).__name__}")
    return build_dag(bytes(data))


# -- CID decoding ------------------------------------------------------------------------------


class CID(NamedTuple):
    """A decoded CID: version, codec (0x70 dag-pb, 0x55 raw, ...) and multihash bytes."""

    text: str
    version: int
    codec: int
    multihash: bytes

    @property
    def is_sha256(self) -> bool:
        """Whether the multihash is a 32-byte sha2-256 (the only one verification supports)."""
        return (
            len(self.multihash) == 34 and self.multihash[0] == _SHA2_256 and self.multihash[1] == 32
        )

    @property
    def v0(self) -> str:
        """The CIDv0 spelling of the same dag-pb sha2-256 block."""
        return cid_v0(self.multihash)


def decode_cid(text: str) -> CID:
    """Decode a CIDv0 (``Qm...``) or CIDv1 (multibase ``b`` base32 or ``z`` base58btc).

    Raises :class:`IPFSAddressError` if ``text`` is not a CID.
    """
    if not isinstance(text, str) or len(text) > MAX_CID_LENGTH:
        raise IPFSAddressError(repr(text)[:80], "not a valid CID (not a string, or too long)")
    try:
        if len(text) == 46 and text.startswith("Qm"):
            mh = b58decode(text)
            if len(mh) != 34 or mh[:2] != bytes((_SHA2_256, 32)):
                raise MalformedDataError("not a sha2-256 multihash")
            return CID(text, 0, _DAG_PB, mh)
        if text[:1] in ("b", "B"):
            import base64

            body = text[1:].upper()
            raw = base64.b32decode(body + "=" * (-len(body) % 8))
        elif text[:1] == "z":
            raw = b58decode(text[1:])
        else:
            raise MalformedDataError("unknown multibase prefix")
        version, pos = _read_varint(raw, 0)
        if version != 1:
            raise MalformedDataError(f"unsupported CID version {version}")
        codec, pos = _read_varint(raw, pos)
        mh = raw[pos:]
        code, p2 = _read_varint(mh, 0)
        length, p2 = _read_varint(mh, p2)
        if length != len(mh) - p2 or length == 0:
            raise MalformedDataError("multihash length mismatch")
        del code
        return CID(text, 1, codec, mh)
    except (ValueError, IndexError, TypeError) as exc:
        raise IPFSAddressError(text, f"not a valid CID ({exc})") from None


def is_cid(text: str) -> bool:
    """Whether ``text`` decodes as a CID."""
    try:
        decode_cid(text)
    except IPFSAddressError:
        return False
    return True


# -- block decoding (verification of fetched blocks) -------------------------------------------


class Block(NamedTuple):
    """A decoded dag-pb/UnixFS block: its child CIDs and its own file data."""

    links: tuple[bytes, ...]  # child CIDs as raw CID bytes (v0: bare multihash)
    data: bytes  # UnixFS Data of this node ("" for internal nodes)


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
            yield field, wire, value
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            if pos + length > len(buf):
                raise MalformedDataError("truncated field")
            yield field, wire, buf[pos : pos + length]
            pos += length
        else:
            raise MalformedDataError(f"unsupported wire type {wire}")


def decode_block(block: bytes) -> Block:
    """Decode a dag-pb block carrying UnixFS file data; ``ValueError`` if it is not one."""
    links: list[bytes] = []
    unixfs = b""
    for field, wire, value in _fields(block):
        if field == 2 and wire == 2 and isinstance(value, bytes):
            for f2, w2, v2 in _fields(value):
                if f2 == 1 and w2 == 2 and isinstance(v2, bytes):
                    links.append(v2)
        elif field == 1 and wire == 2 and isinstance(value, bytes):
            unixfs = value
    kind, data = None, b""
    for field, wire, value in _fields(unixfs):
        if field == 1 and wire == 0:
            kind = value
        elif field == 2 and wire == 2 and isinstance(value, bytes):
            data = value
    if kind not in (_UNIXFS_FILE, _UNIXFS_RAW):
        raise MalformedDataError("not a UnixFS file node")
    return Block(tuple(links), data)


def link_to_cid(raw: bytes) -> CID:
    """Decode a link's binary CID (a bare multihash for v0, ``0x01 codec mh`` for v1)."""
    if raw[:2] == bytes((_SHA2_256, 32)) and len(raw) == 34:
        return CID(cid_v0(raw), 0, _DAG_PB, raw)
    version, pos = _read_varint(raw, 0)
    codec, pos = _read_varint(raw, pos)
    if version != 1:
        raise MalformedDataError("unsupported link CID version")
    mh = raw[pos:]
    import base64

    text = "b" + base64.b32encode(raw).decode().lower().rstrip("=")
    return CID(text, 1, codec, mh)


def block_matches(cid: CID, block: bytes) -> bool:
    """Whether ``block`` hashes to ``cid`` (sha2-256 multihashes only)."""
    from hashlib import sha256

    return cid.is_sha256 and cid.multihash[2:] == sha256(block).digest()


DAG_PB = _DAG_PB
RAW = _RAW
