"""The one parser of IPFS addresses.

Accepted forms (anything else raises :class:`IPFSAddressError`)::

    Qm...  /  bafy...                         bare CID
    /ipfs/<cid>[/path]                        gateway path without a host
    ipfs://<cid>[/path]
    http(s)://host[:port]/ipfs/<cid>[/path]   path-style gateway URL
    http(s)://<cid>.ipfs.host[:port][/path]   subdomain gateway URL

A path may not hold ``.`` or ``..`` segments (plain or percent-encoded, also once the
encoded slashes and backslashes it holds are decoded: ``..%2f..%2fadmin``): rewritten to a
trusted gateway, ``/ipfs/<cid>/../../x`` would otherwise leave the ``/ipfs/`` namespace.
"""

from __future__ import annotations

from typing import NamedTuple

from ogpu.ipfs._cid import is_cid
from ogpu.ipfs._errors import IPFSAddressError


class IPFSAddress(NamedTuple):
    """A parsed IPFS address: the root CID and the path below it ("" or "/a/b")."""

    cid: str
    path: str


def _split_cid_path(address: str, rest: str) -> IPFSAddress:
    cid, sep, path = rest.partition("/")
    if not cid:
        raise IPFSAddressError(address, "no CID")
    if not is_cid(cid):
        raise IPFSAddressError(address, f"{cid!r} is not a CID")
    return IPFSAddress(cid, _clean_path(address, (sep + path).rstrip("/") if path else ""))


def _clean_path(address: str, path: str) -> str:
    from urllib.parse import unquote

    # Decode as often as a chain of servers might (``%252f`` -> ``%2f`` -> ``/``), then look
    # at the segments a server would see: ``..%2f..%2fadmin`` is ``../../admin``.
    decoded = path
    for _ in range(4):
        once = unquote(decoded)
        if once == decoded:
            break
        decoded = once
    else:
        raise IPFSAddressError(address, "the path is percent-encoded too many times")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in decoded):
        raise IPFSAddressError(address, "the path holds encoded control characters")
    for segment in decoded.replace("\\", "/").split("/"):
        if segment in (".", ".."):
            raise IPFSAddressError(address, "the path holds a '.' or '..' segment")
    return path


def parse_ipfs_url(address: str) -> IPFSAddress:
    """Extract ``(cid, path)`` from any accepted IPFS address form.

    Example::

        >>> parse_ipfs_url("https://cipfs.ogpuscan.io/ipfs/QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX/a.json")
        IPFSAddress(cid='QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX', path='/a.json')

    Raises:
        IPFSAddressError: ``address`` is not one of the accepted forms or holds no valid CID.
    """
    if not isinstance(address, str):
        raise IPFSAddressError(repr(address), "an IPFS address must be a string")
    text = address.strip()
    if not text:
        raise IPFSAddressError(address, "empty address")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        raise IPFSAddressError(address, "contains whitespace or control characters")
    if text.startswith("/ipfs/"):
        return _split_cid_path(address, text[len("/ipfs/") :].split("?", 1)[0].split("#", 1)[0])
    if "://" not in text:
        if "/" in text or not is_cid(text):
            raise IPFSAddressError(address, "not a CID or a URL")
        return IPFSAddress(text, "")
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
    except ValueError as exc:  # e.g. "http://[::1/": an unbalanced IPv6 bracket
        raise IPFSAddressError(address, f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme == "ipfs":
        # The CID sits in the authority; keep its case (CIDv0 is case-sensitive).
        rest = text.split("://", 1)[1].split("?", 1)[0].split("#", 1)[0]
        return _split_cid_path(address, rest)
    if scheme not in ("http", "https"):
        raise IPFSAddressError(address, f"unsupported scheme {parts.scheme!r}")
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not host:
        raise IPFSAddressError(address, "URL has no host")
    labels = host.split(".")
    if len(labels) >= 3 and labels[1].lower() == "ipfs" and is_cid(labels[0]):
        return IPFSAddress(labels[0], _clean_path(address, parts.path.rstrip("/")))
    if parts.path.startswith("/ipfs/"):
        return _split_cid_path(address, parts.path[len("/ipfs/") :])
    raise IPFSAddressError(address, "URL has neither an /ipfs/<cid> path nor a <cid>.ipfs. host")
