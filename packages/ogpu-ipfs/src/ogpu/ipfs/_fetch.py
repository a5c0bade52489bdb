"""Fetching content: URL policy, size cap, CID verification, cache, batch fetch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ogpu.ipfs import _http
from ogpu.ipfs._address import IPFSAddress, parse_ipfs_url
from ogpu.ipfs._cache import shared_cache
from ogpu.ipfs._cid import (
    CID,
    DAG_PB,
    RAW,
    block_matches,
    build_dag,
    decode_block,
    decode_cid,
    link_to_cid,
)
from ogpu.ipfs._errors import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSFetchError,
    IPFSIntegrityError,
    IPFSTooLargeError,
    IPFSUntrustedURLError,
    OGPUError,
)
from ogpu.ipfs._settings import IPFSSettings, UrlPolicy, get_settings, validate

if TYPE_CHECKING:
    pass

logger = logging.getLogger("ogpu.ipfs")

_RAW_ACCEPT = "application/vnd.ipld.raw"
_MAX_BLOCK = 2 * 1024 * 1024  # the IPFS block size limit (bitswap refuses larger blocks)


def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _resolve(url: str, policy: UrlPolicy, gateway: str) -> tuple[str, IPFSAddress | None]:
    """Return (the URL to request, the parsed address if ``url`` is an IPFS address)."""
    if not isinstance(url, str):
        raise IPFSAddressError(repr(url), "a URL must be a string")
    scheme = url.strip().split("://", 1)[0].lower() if "://" in url else ""
    if policy == "strict":
        # Only IPFS content, through the trusted gateway: anything else is refused before
        # any request (file:, data:, a loopback or internal host, an integer or IPv6 host).
        try:
            found = parse_ipfs_url(url)
        except IPFSAddressError as exc:
            raise IPFSUntrustedURLError(
                url,
                f"{exc.reason}; the strict URL policy fetches only IPFS content through the "
                f"trusted gateway (for URLs read from the chain, opt in to other URLs with "
                f"ogpu.ipfs.configure(trust_chain_urls=True) or OGPU_IPFS_TRUST_CHAIN_URLS=1)",
            ) from None
        return f"{gateway}/{found.cid}{found.path}", found
    if scheme and scheme not in ("http", "https", "ipfs"):
        raise IPFSFetchError(url, f"refusing to fetch a {scheme!r} URL: only http(s) and ipfs://")
    try:
        parsed: IPFSAddress | None = parse_ipfs_url(url)
    except IPFSAddressError:
        if scheme not in ("http", "https"):
            raise
        parsed = None
    address = parsed
    if address is None:
        _http.check_http_url(url.strip())
        return url.strip(), None
    if scheme in ("http", "https") and policy == "direct":
        return url.strip(), address
    return f"{gateway}/{address.cid}{address.path}", address


def _redirect_checker(policy: UrlPolicy, gateway: str) -> Any:
    if policy == "direct":
        return None
    allowed = _origin(gateway)

    def check(target: str) -> None:
        if _origin(target) != allowed:
            raise IPFSFetchError(
                target, f"refusing redirect off the trusted gateway {allowed} ({policy} policy)"
            )

    return check


def _block_base(fetch_url: str, gateway: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(fetch_url)
    if "/ipfs/" in parts.path:
        prefix = parts.path.split("/ipfs/", 1)[0]
        return f"{parts.scheme}://{parts.netloc}{prefix}/ipfs"
    return gateway


def _verifiable(url: str, address: IPFSAddress) -> CID:
    """The CID to verify against; raises before any request if it cannot be verified."""
    if address.path:
        raise IPFSConfigError(
            f"cannot verify {url}: verification of a path inside a directory is not supported"
        )
    cid = decode_cid(address.cid)
    if not cid.is_sha256:
        raise IPFSIntegrityError(url, cid.text, reason="only sha2-256 CIDs can be verified")
    if cid.codec not in (RAW, DAG_PB):
        raise IPFSIntegrityError(url, cid.text, reason=f"cannot verify codec 0x{cid.codec:x}")
    return cid


def _verify(
    url: str,
    fetch_url: str,
    cid: CID,
    body: bytes,
    s: IPFSSettings,
    call: dict[str, Any],
) -> None:
    """Raise :class:`IPFSIntegrityError` unless ``body`` is the content of ``cid``."""
    if cid.codec == RAW:
        if not block_matches(cid, body):
            raise IPFSIntegrityError(url, cid.text, reason="raw block hash mismatch")
        return
    computed = build_dag(body)
    if decode_cid(computed).multihash == cid.multihash:
        return  # the default `ipfs add` DAG of these bytes is the CID: verified, no more requests
    # Other chunkings/layouts (or a lying gateway): verify block by block, as a trustless
    # gateway client would, then compare the verified content with the body we got.
    logger.debug("verifying %s block by block (default DAG gives %s)", url, computed)
    content = _fetch_verified_dag(url, cid, _block_base(fetch_url, s.gateway), s, call)
    if content != body:
        raise IPFSIntegrityError(url, cid.text, computed, "served bytes differ from the CID's DAG")


def _fetch_verified_dag(
    url: str,
    root: CID,
    base: str,
    s: IPFSSettings,
    call: dict[str, Any],
    emit: Callable[[bytes], None] | None = None,
) -> bytes:
    """The content of the DAG under ``root``, every block checked against its CID.

    With ``emit`` each verified piece of content goes there, in order (returns ``b""``).
    """
    out: list[bytes] = []
    total = 0
    stack = [root]
    while stack:
        cid = stack.pop()
        if not cid.is_sha256:
            raise IPFSIntegrityError(url, root.text, reason=f"block {cid.text} is not sha2-256")
        resp = _http.send(
            "GET",
            f"{base}/{cid.text}",
            params={"format": "raw"},
            headers={"Accept": _RAW_ACCEPT},
            max_bytes=_MAX_BLOCK,
            **call,
        )
        if not block_matches(cid, resp.body):
            raise IPFSIntegrityError(url, root.text, reason=f"block {cid.text} fails its hash")
        if cid.codec == RAW:
            data = resp.body
        else:
            try:
                node = decode_block(resp.body)
                children = [link_to_cid(link) for link in node.links]
            except ValueError as exc:
                raise IPFSIntegrityError(
                    url, root.text, reason=f"block {cid.text} is not UnixFS file data ({exc})"
                ) from None
            stack.extend(reversed(children))
            data = node.data
        total += len(data)
        if total > s.max_bytes:
            raise IPFSIntegrityError(url, root.text, reason="DAG content exceeds the size cap")
        if emit is not None:
            emit(data)
        else:
            out.append(data)
    return b"".join(out)


def _call_settings(
    timeout: float | None,
    verify: bool | None,
    gateway: str | None,
    url_policy: UrlPolicy | None,
    max_bytes: int | None,
    retries: int | None,
    backoff: float | None,
    deadline: float | None,
) -> IPFSSettings:
    """The settings of one call: the configured ones with this call's arguments on top."""
    overrides = {
        k: v
        for k, v in (
            ("timeout", timeout),
            ("verify", verify),
            ("gateway", gateway.rstrip("/") if isinstance(gateway, str) else gateway),
            ("url_policy", url_policy),
            ("max_bytes", max_bytes),
            ("retries", retries),
            ("backoff", backoff),
            ("deadline", deadline),
        )
        if v is not None
    }
    validate(overrides)
    base = get_settings()
    return IPFSSettings(**{**base.__dict__, **overrides}) if overrides else base


def _call_options(s: IPFSSettings) -> dict[str, Any]:
    deadline = s.deadline
    if deadline is None:
        deadline = _http.derived_deadline(s.timeout, s.retries, s.backoff)
    return {
        "timeout": s.timeout,
        "retries": s.retries,
        "backoff": s.backoff,
        "deadline": deadline,
        # One deadline for the whole call: the content and every block fetched to verify it.
        "deadline_at": time.monotonic() + deadline,
        "check_redirect": _redirect_checker(s.url_policy, s.gateway),
    }


def fetch_ipfs_bytes(
    url: str,
    timeout: float | None = None,
    *,
    verify: bool | None = None,
    gateway: str | None = None,
    url_policy: UrlPolicy | None = None,
    max_bytes: int | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    deadline: float | None = None,
    cache: bool = True,
) -> bytes:
    """Fetch the bytes at an IPFS address (gateway URL, ``ipfs://`` URL or bare CID).

    Arguments left as ``None`` come from :func:`ogpu.ipfs.configure` / the environment /
    defaults (timeout 30 s, 2 retries, 64 MiB cap, no verification, ``direct`` URL policy).

    Args:
        url: the address; http(s) URLs that are not IPFS addresses are fetched as plain
            URLs unless ``url_policy="strict"``.
        timeout: per-request timeout in seconds.
        verify: check the bytes against the CID in the address; a mismatch raises
            :class:`IPFSIntegrityError`. Multi-block content that the default ``ipfs add``
            DAG does not reproduce is verified block by block via ``?format=raw``.
        gateway: trusted gateway prefix (``https://host/ipfs``) for bare CIDs, ``ipfs://``
            URLs and rewritten URLs.
        url_policy: ``direct``, ``gateway`` or ``strict`` (see the package README).
        max_bytes: size cap; a larger body raises :class:`IPFSTooLargeError` unread.
        retries, backoff, deadline: retry policy (see :func:`ogpu.ipfs.configure`).
        cache: use the content-addressed cache (read and write).

    ``deadline`` (or the one derived from timeout, retries and backoff) bounds the whole
    call, block-by-block verification included.

    Example::

        data = fetch_ipfs_bytes("ipfs://QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX", verify=True)
    """
    s = _call_settings(timeout, verify, gateway, url_policy, max_bytes, retries, backoff, deadline)
    fetch_url, address = _resolve(url, s.url_policy, s.gateway)
    if s.verify and address is None:
        raise IPFSAddressError(url, "cannot verify: the URL holds no CID")
    cid = _verifiable(url, address) if s.verify and address is not None else None
    store = shared_cache(s.cache_max_bytes) if cache and s.cache_max_bytes and address else None
    origin = _origin(fetch_url)
    if store is not None and address is not None:
        hit = store.get(
            address.cid, address.path, origin, verified_only=s.verify, directory=s.cache_dir
        )
        if hit is not None:
            if len(hit) > s.max_bytes:  # the cap holds for cached content too
                raise IPFSTooLargeError(
                    url, f"body of {len(hit)} bytes exceeds the {s.max_bytes}-byte cap",
                    limit=s.max_bytes,
                )  # fmt: skip
            logger.debug("cache hit for %s", url)
            return hit
    call = _call_options(s)
    logger.debug("fetching %s (as %s)", url, fetch_url)
    resp = _http.send("GET", fetch_url, max_bytes=s.max_bytes, **call)
    body = resp.body
    if cid is not None:
        _verify(url, fetch_url, cid, body, s, call)
    if store is not None and address is not None:
        store.put(address.cid, address.path, origin, body, verified=s.verify, directory=s.cache_dir)
    return body


def fetch_ipfs_json(
    url: str,
    timeout: float | None = None,
    *,
    verify: bool | None = None,
    gateway: str | None = None,
    url_policy: UrlPolicy | None = None,
    max_bytes: int | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    deadline: float | None = None,
    cache: bool = True,
) -> dict[str, Any]:
    """Fetch an IPFS address and parse it as JSON (see :func:`fetch_ipfs_bytes` for options).

    Example::

        payload = fetch_ipfs_json("https://cipfs.ogpuscan.io/ipfs/Qm...")

    Raises:
        IPFSFetchError: network failure, timeout, or the body is not valid JSON.
        IPFSGatewayError: the gateway answered with an error status.
        IPFSIntegrityError: ``verify`` is on and the bytes do not match the CID.
    """
    body = fetch_ipfs_bytes(
        url,
        timeout,
        verify=verify,
        gateway=gateway,
        url_policy=url_policy,
        max_bytes=max_bytes,
        retries=retries,
        backoff=backoff,
        deadline=deadline,
        cache=cache,
    )
    from ogpu.ipfs import _json

    try:
        result: dict[str, Any] = _json.loads(body)
    except ValueError as exc:  # UnicodeDecodeError included
        from ogpu.ipfs._cache import _cache

        _cache.forget_unverified(body)  # not remembered: the next call asks the gateway again
        raise IPFSFetchError(url, f"invalid JSON: {exc}") from exc
    return result


_FETCH_OPTIONS = frozenset(
    {"timeout", "verify", "gateway", "url_policy", "max_bytes", "retries", "backoff"}
    | {"deadline", "cache"}
)


def fetch_many(
    urls: Iterable[str],
    max_workers: int = 8,
    *,
    as_json: bool = False,
    **options: Any,
) -> list[Any]:
    """Fetch many addresses concurrently; one entry per URL, in order.

    Each entry is the result (bytes, or the parsed JSON with ``as_json=True``) or the
    :class:`OGPUError` that fetching that URL raised; one failure never hides the others.
    ``options`` are passed to :func:`fetch_ipfs_bytes`; unknown or invalid ones raise
    :class:`IPFSConfigError` before any request.

    Example::

        results = fetch_many(urls, max_workers=4, as_json=True)
        failed = [r for r in results if isinstance(r, IPFSError)]
    """
    if isinstance(max_workers, bool) or not isinstance(max_workers, int) or max_workers < 1:
        raise IPFSConfigError(f"max_workers must be a positive int, got {max_workers!r}")
    unknown = sorted(set(options) - _FETCH_OPTIONS)
    if unknown:
        raise IPFSConfigError(f"unknown fetch option(s) {', '.join(unknown)}")
    validate(
        {
            k: (v.rstrip("/") if k == "gateway" and isinstance(v, str) else v)
            for k, v in options.items()
            if k != "cache" and v is not None
        }
    )
    if isinstance(urls, str):
        raise IPFSConfigError("fetch_many expects an iterable of URLs, not one URL string")
    items = list(urls)
    fetch = fetch_ipfs_json if as_json else fetch_ipfs_bytes

    def one(item: str) -> Any:
        try:
            return fetch(item, **options)
        except OGPUError as exc:
            return exc

    if not items:
        return []
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(max_workers, len(items))) as pool:
        return list(pool.map(one, items))
