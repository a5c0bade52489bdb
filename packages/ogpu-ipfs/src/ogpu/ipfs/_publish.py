"""Publishing content: OGPU's pinning service (default) or a Kubo node's RPC API."""

from __future__ import annotations

import logging
import os
from typing import Any

from ogpu.ipfs import _http
from ogpu.ipfs._address import parse_ipfs_url
from ogpu.ipfs._cid import CHUNK_SIZE, DAG_PB, RAW, block_matches, compute_cid, decode_cid
from ogpu.ipfs._errors import (
    IPFSAddressError,
    IPFSConfigError,
    IPFSGatewayError,
    IPFSIntegrityError,
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
        import json

        try:
            return json.dumps(data).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise IPFSConfigError(f"cannot serialise the dict as JSON: {exc}") from exc
    raise IPFSConfigError(f"can publish a dict, str or bytes, not {type(data).__name__}")


def _check_link_cid(link: str, cid_text: str, payload: bytes, computed: str) -> None:
    cid = decode_cid(cid_text)
    if cid.codec == DAG_PB and cid.multihash == decode_cid(computed).multihash:
        return
    if cid.codec == RAW and block_matches(cid, payload):
        return
    raise IPFSIntegrityError(
        link, cid_text, computed, "the service answered with a CID other than the bytes sent"
    )


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

    The CID in the returned link is checked against the bytes sent: a service answering
    with another CID raises :class:`IPFSIntegrityError`. Connection errors, timeouts, 5xx
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
    call: dict[str, Any] = {
        "timeout": s.timeout,
        "retries": s.retries,
        "backoff": s.backoff,
        "deadline": s.deadline,
        "max_bytes": _MAX_ANSWER,
        "files": files,
    }
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
        try:
            cid_text = parse_ipfs_url(link).cid
        except IPFSAddressError:
            raise IPFSGatewayError(
                endpoint, resp.status, reason=f"'link' is not an IPFS URL: {link!r}"
            ) from None
    _check_link_cid(link, cid_text, payload, computed)
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
