"""Publishing content: OGPU's pinning service (default) or a Kubo node's RPC API."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from ogpu.ipfs import _http
from ogpu.ipfs._address import parse_ipfs_url
from ogpu.ipfs._cid import CHUNK_SIZE, DAG_PB, RAW, block_matches, compute_cid, decode_cid
from ogpu.ipfs._errors import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSError,
    IPFSGatewayError,
    IPFSIntegrityError,
    IPFSTooLargeError,
)
from ogpu.ipfs._settings import Backend, IPFSSettings, get_settings, validate

logger = logging.getLogger("ogpu.ipfs")

_MAX_ANSWER = 1024 * 1024  # a publish answer is a small JSON document


def _encode(data: object) -> bytes:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, dict):
        from ogpu.ipfs import _json

        # What our own fetch could not read back (NaN/Infinity, nesting beyond its depth
        # limit) is refused here, before anything is uploaded.
        try:
            return _json.dumps(data)
        except ValueError as exc:
            raise IPFSConfigError(f"cannot publish the dict as JSON: {exc}") from None
    raise IPFSConfigError(f"can publish a dict, str or bytes, not {type(data).__name__}")


def _link_matches(cid_text: str, payload: bytes, computed: str) -> bool:
    """Whether the link's CID is provably the CID of ``payload`` without any request."""
    cid = decode_cid(cid_text)
    if cid.codec == DAG_PB and cid.multihash == decode_cid(computed).multihash:
        return True
    return cid.codec == RAW and block_matches(cid, payload)


def _verify_by_content(
    link: str, cid_text: str, payload: bytes, computed: str, call: dict[str, Any]
) -> None:
    """The link's CID is not the one we compute (another chunking, raw leaves, ...): fetch
    the link once and compare its bytes with the payload; equal bytes are the content we sent.

    Raises:
        IPFSIntegrityError: the bytes differ, or the link could not be read to compare.
    """
    logger.info(
        "the service answered CID %s, ours is %s (another DAG layout?): comparing content",
        cid_text,
        computed,
    )
    try:
        resp = _http.send("GET", link, max_bytes=len(payload), **call)
    except IPFSTooLargeError:
        raise IPFSIntegrityError(
            link, cid_text, computed, "the link serves more bytes than were sent"
        ) from None
    except IPFSError as exc:
        raise IPFSIntegrityError(
            link,
            cid_text,
            computed,
            f"the service answered another CID than ours and the link could not be read to "
            f"compare its content ({exc}); the content may be pinned under that link",
        ) from exc
    if resp.body != payload:
        raise IPFSIntegrityError(
            link, cid_text, computed, "the service answered a link whose content differs"
        )
    logger.info("content of %s verified byte for byte (%d bytes)", link, len(payload))


def _checked_link(link: str, endpoint: str, status: int) -> str:
    """The CID of a pinning service's link; refuses links that are not plain content URLs."""
    from urllib.parse import urlsplit

    try:
        address = parse_ipfs_url(link)
    except IPFSAddressError:
        raise IPFSGatewayError(
            endpoint, status, reason=f"'link' is not an IPFS URL: {link!r}"
        ) from None
    if address.path:
        raise IPFSGatewayError(
            endpoint, status, reason=f"'link' has a path after its CID: {link!r}"
        )
    if "://" in link:
        parts = urlsplit(link)
        if parts.query or parts.fragment or "@" in parts.netloc:
            raise IPFSGatewayError(
                endpoint,
                status,
                reason=f"'link' carries a query, fragment or user info: {link!r}",
            )
    return address.cid


def _json_answer(body: bytes, endpoint: str, status: int) -> Any:
    from ogpu.ipfs import _json

    text = body.decode("utf-8", "replace").strip()
    # Kubo may stream one JSON object per line (progress); the last one carries the result.
    last = text.splitlines()[-1] if text else ""
    try:
        return _json.loads(last.encode("utf-8"))
    except ValueError:
        raise IPFSGatewayError(endpoint, status, reason="the answer is not JSON") from None


def publish_bytes(
    data: bytes,
    filename: str = "data.bin",
    content_type: str = "application/octet-stream",
    timeout: float = 30,
    retries: int = 2,
    backoff: float = 0.5,
    *,
    publish_url: str | None = None,
    backend: Backend | None = None,
    gateway: str | None = None,
    kubo_api_url: str | None = None,
    deadline: float | None = None,
) -> str:
    """Publish raw bytes; return the gateway URL of the pinned content.

    The CID in the returned link is checked against the bytes sent. When it is not the CID
    we compute (the service may chunk differently, use raw leaves or CIDv1), the link is
    fetched once and its bytes compared with the bytes sent: :class:`IPFSIntegrityError`
    only when they differ (or the link cannot be read to compare). A link with a path,
    query or user info after its CID is refused (:class:`IPFSGatewayError`). Connection errors, timeouts, 5xx
    and 429 are retried (``retries`` times, backoff doubling from ``backoff`` seconds, with
    jitter; ``Retry-After`` honoured); other 4xx and malformed answers fail at once.

    Args:
        data: the bytes.
        filename, content_type: sent with the multipart ``file`` field.
        timeout: per-request timeout (seconds).
        retries, backoff, deadline: retry policy; ``deadline`` bounds the whole call.
            ``timeout``, ``retries`` and ``backoff`` keep the published SDK's defaults
            (30, 2, 0.5) and are not taken from :func:`ogpu.ipfs.configure`.
        publish_url: OGPU pinning endpoint (default: settings / ``OGPU_IPFS_PUBLISH_URL``).
        backend: ``"ogpu"`` or ``"kubo"`` (default: settings / ``OGPU_IPFS_BACKEND``).
        gateway: gateway prefix for Kubo links (default: settings / ``OGPU_IPFS_GATEWAY``).
        kubo_api_url: Kubo RPC base URL (default: settings / ``OGPU_IPFS_KUBO_API``).

    Example::

        url = publish_bytes(png_bytes, filename="cat.png", content_type="image/png")
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise IPFSConfigError(f"publish_bytes expects bytes, got {type(data).__name__}")
    if not isinstance(filename, str) or not filename or not isinstance(content_type, str):
        raise IPFSConfigError("filename must be a non-empty str and content_type a str")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in filename + content_type):
        # They go into the multipart part's headers: a CR/LF would inject headers.
        raise IPFSConfigError("filename and content_type must not hold control characters")
    overrides: dict[str, Any] = {"timeout": timeout, "retries": retries, "backoff": backoff}
    for key, value in (
        ("publish_url", publish_url),
        ("backend", backend),
        ("gateway", gateway),
        ("kubo_api_url", kubo_api_url),
        ("deadline", deadline),
    ):
        if value is not None:
            overrides[key] = value.rstrip("/") if isinstance(value, str) else value
    validate(overrides)
    s = IPFSSettings(**{**get_settings().__dict__, **overrides})
    payload = bytes(data)
    computed = compute_cid(payload)
    files = {"file": (filename, payload, content_type)}
    deadline_s = s.deadline
    if deadline_s is None:
        deadline_s = _http.derived_deadline(s.timeout, s.retries, s.backoff)
    timing: dict[str, Any] = {
        "timeout": s.timeout,
        "retries": s.retries,
        "backoff": s.backoff,
        "deadline": deadline_s,
        # One wall-clock bound for the upload and the content check after it.
        "deadline_at": time.monotonic() + deadline_s,
    }
    call: dict[str, Any] = {**timing, "max_bytes": _MAX_ANSWER, "files": files}
    if s.backend == "kubo":
        endpoint = f"{s.kubo_api_url}/api/v0/add"
        # Spell out `ipfs add`'s defaults: a node configured otherwise (Import.* settings)
        # would give another CID than compute_cid, and the link check would fail.
        params = {
            "cid-version": "0",
            "raw-leaves": "false",
            "chunker": f"size-{CHUNK_SIZE}",
            "hash": "sha2-256",
            "pin": "true",
        }
        resp = _http.send("POST", endpoint, params=params, **call)
        answer = _json_answer(resp.body, endpoint, resp.status)
        cid_text = answer.get("Hash") if isinstance(answer, dict) else None
        if not isinstance(cid_text, str):
            raise IPFSGatewayError(endpoint, resp.status, reason="the answer has no 'Hash' field")
        try:
            decode_cid(cid_text)
        except IPFSAddressError:
            raise IPFSGatewayError(
                endpoint, resp.status, reason=f"'Hash' is not a CID: {cid_text!r}"
            ) from None
        link = f"{s.gateway}/{cid_text}"
    else:
        endpoint = s.publish_url
        resp = _http.send("POST", endpoint, **call)
        answer = _json_answer(resp.body, endpoint, resp.status)
        found = answer.get("link") if isinstance(answer, dict) else None
        if not isinstance(found, str) or not found:
            raise IPFSGatewayError(endpoint, resp.status, reason="the answer has no 'link' field")
        link = found
        cid_text = _checked_link(link, endpoint, resp.status)
    if not _link_matches(cid_text, payload, computed):
        _verify_by_content(link, cid_text, payload, computed, timing)
    logger.info("published %d bytes as %s", len(payload), link)
    return link


def publish_to_ipfs(
    data: str | dict[str, Any] | bytes,
    filename: str = "data.json",
    content_type: str = "application/json",
    timeout: float = 30,
    retries: int = 2,
    backoff: float = 0.5,
    *,
    publish_url: str | None = None,
    backend: Backend | None = None,
    gateway: str | None = None,
    kubo_api_url: str | None = None,
    deadline: float | None = None,
) -> str:
    """Publish a dict (as JSON), a str (UTF-8) or bytes; return the gateway URL.

    Same behaviour and options as :func:`publish_bytes`.

    Example::

        url = publish_to_ipfs({"result": "cat", "confidence": 0.97}, filename="response.json")
    """
    return publish_bytes(
        _encode(data),
        filename,
        content_type,
        timeout,
        retries,
        backoff,
        publish_url=publish_url,
        backend=backend,
        gateway=gateway,
        kubo_api_url=kubo_api_url,
        deadline=deadline,
    )


def publish_file(
    path: str | os.PathLike[str],
    filename: str | None = None,
    content_type: str | None = None,
    timeout: float = 30,
    retries: int = 2,
    backoff: float = 0.5,
    *,
    publish_url: str | None = None,
    backend: Backend | None = None,
    gateway: str | None = None,
    kubo_api_url: str | None = None,
    deadline: float | None = None,
) -> str:
    """Publish a file's bytes; the name defaults to the file's, the type is guessed from it.

    Example::

        url = publish_file("weights.safetensors")
    """
    try:
        with open(path, "rb") as fh:
            payload = fh.read()
    except OSError as exc:
        raise IPFSConfigError(f"cannot read {os.fspath(path)!r}: {exc.strerror or exc}") from exc
    name = filename or os.path.basename(os.fspath(path)) or "data.bin"
    if content_type is None:
        import mimetypes

        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return publish_bytes(
        payload,
        name,
        content_type,
        timeout,
        retries,
        backoff,
        publish_url=publish_url,
        backend=backend,
        gateway=gateway,
        kubo_api_url=kubo_api_url,
        deadline=deadline,
    )
