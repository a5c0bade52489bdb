"""Endpoints and defaults: arguments override :func:`configure`, which overrides environment
variables, which override the built-in defaults (OGPU's production services).

Environment variables (read at each call, so tests and processes can change them):

- ``OGPU_IPFS_PUBLISH_URL``: OGPU pinning service endpoint (``POST`` multipart ``file``).
- ``OGPU_IPFS_GATEWAY``: trusted gateway prefix, e.g. ``https://cipfs.ogpuscan.io/ipfs``.
- ``OGPU_IPFS_BACKEND``: ``ogpu`` (default) or ``kubo``.
- ``OGPU_IPFS_KUBO_API``: Kubo RPC API base URL, e.g. ``http://127.0.0.1:5001``.
- ``OGPU_IPFS_URL_POLICY``: ``direct`` (default), ``gateway`` or ``strict`` (see README).
- ``OGPU_IPFS_TRUST_CHAIN_URLS``: ``1`` to let URLs read from the chain that are not IPFS
  content be fetched as they are (off by default: they are refused, see README).
- ``OGPU_IPFS_VERIFY``: ``1`` to verify fetched bytes against their CID by default.
- ``OGPU_IPFS_MAX_BYTES``: fetch size cap in bytes.
- ``OGPU_IPFS_CACHE_DIR``: directory for the verified-content cache (off by default).
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from dataclasses import dataclass
from typing import Any, Literal

from ogpu.ipfs._errors import IPFSConfigError

DEFAULT_PUBLISH_URL = "https://capi.ogpuscan.io/file/create"
DEFAULT_GATEWAY = "https://cipfs.ogpuscan.io/ipfs"
DEFAULT_KUBO_API = "http://127.0.0.1:5001"
#: Default fetch size cap: 64 MiB, generous for JSON documents and typical payloads while
#: bounding the memory a hostile URL can make a client spend.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
#: Default in-memory cache budget (bytes of content); 0 disables the cache.
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024

Backend = Literal["ogpu", "kubo"]
UrlPolicy = Literal["direct", "gateway", "strict"]
_BACKENDS = ("ogpu", "kubo")
_POLICIES = ("direct", "gateway", "strict")


@dataclass(frozen=True)
class IPFSSettings:
    """Effective configuration of ``ogpu.ipfs`` (immutable; see :func:`configure`).

    Attributes:
        publish_url: OGPU pinning service endpoint.
        gateway: trusted gateway prefix (``.../ipfs``) for bare CIDs, ``ipfs://`` URLs, Kubo
            links and URL rewriting.
        backend: ``"ogpu"`` (pinning service) or ``"kubo"`` (``POST /api/v0/add``).
        kubo_api_url: Kubo RPC API base URL.
        url_policy: ``"direct"`` fetches http(s) URLs where they point; ``"gateway"``
            rewrites recognised IPFS URLs to ``gateway`` by CID; ``"strict"`` also refuses
            URLs that are not IPFS addresses.
        verify: verify fetched bytes against the CID in the URL by default.
        max_bytes: fetch size cap.
        timeout: per-request timeout in seconds.
        retries: retries after the first attempt.
        backoff: first retry delay in seconds (doubles each retry, with jitter).
        deadline: overall time budget for one call, retries included (``None``: derived).
        cache_max_bytes: in-memory content cache budget (0: off).
        cache_dir: optional directory for verified content (``None``: memory only).
        trust_chain_urls: fetch URLs read from the chain that are not IPFS addresses as they
            are (policy ``gateway``); off by default: policy ``strict`` refuses them with
            :class:`~ogpu.ipfs.IPFSUntrustedURLError` (no request to a host an on-chain URL
            names). IPFS URLs read from the chain always go through ``gateway``.
    """

    publish_url: str = DEFAULT_PUBLISH_URL
    gateway: str = DEFAULT_GATEWAY
    backend: Backend = "ogpu"
    kubo_api_url: str = DEFAULT_KUBO_API
    url_policy: UrlPolicy = "direct"
    verify: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = 30.0
    retries: int = 2
    backoff: float = 0.5
    deadline: float | None = None
    cache_max_bytes: int = DEFAULT_CACHE_BYTES
    cache_dir: str | None = None
    trust_chain_urls: bool = False

    def __post_init__(self) -> None:
        validate(dataclasses.asdict(self))


_FIELDS = frozenset(f.name for f in dataclasses.fields(IPFSSettings))
_lock = threading.Lock()
_overrides: dict[str, Any] = {}


def _check_url(name: str, value: object) -> None:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise IPFSConfigError(f"{name} must be an http(s) URL, got {value!r}")


def validate(values: dict[str, Any]) -> None:
    """Raise :class:`IPFSConfigError` for any invalid value in ``values``."""
    for name, value in values.items():
        if name not in _FIELDS:
            raise IPFSConfigError(f"unknown ogpu.ipfs setting {name!r}")
        if name in ("publish_url", "gateway", "kubo_api_url"):
            _check_url(name, value)
        elif name == "backend" and value not in _BACKENDS:
            raise IPFSConfigError(f"backend must be one of {_BACKENDS}, got {value!r}")
        elif name == "url_policy" and value not in _POLICIES:
            raise IPFSConfigError(f"url_policy must be one of {_POLICIES}, got {value!r}")
        elif name in ("max_bytes", "retries", "cache_max_bytes") and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise IPFSConfigError(f"{name} must be a non-negative int, got {value!r}")
        elif name in ("timeout", "backoff") and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value < 0
        ):
            raise IPFSConfigError(f"{name} must be a non-negative number, got {value!r}")
        elif name == "timeout" and value == 0:
            raise IPFSConfigError("timeout must be positive")
        elif (
            name == "deadline"
            and value is not None
            and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or value <= 0
            )
        ):
            raise IPFSConfigError(f"deadline must be a positive number or None, got {value!r}")
        elif name in ("verify", "trust_chain_urls") and not isinstance(value, bool):
            raise IPFSConfigError(f"{name} must be a bool, got {value!r}")
        elif name == "cache_dir" and value is not None and not isinstance(value, str):
            raise IPFSConfigError(f"cache_dir must be a path string or None, got {value!r}")


def _from_env() -> dict[str, Any]:
    env = os.environ
    values: dict[str, Any] = {}
    for var, name in (
        ("OGPU_IPFS_PUBLISH_URL", "publish_url"),
        ("OGPU_IPFS_GATEWAY", "gateway"),
        ("OGPU_IPFS_BACKEND", "backend"),
        ("OGPU_IPFS_KUBO_API", "kubo_api_url"),
        ("OGPU_IPFS_URL_POLICY", "url_policy"),
        ("OGPU_IPFS_CACHE_DIR", "cache_dir"),
    ):
        if env.get(var):
            values[name] = env[var].rstrip("/") if name != "cache_dir" else env[var]
    for var, name in (
        ("OGPU_IPFS_VERIFY", "verify"),
        ("OGPU_IPFS_TRUST_CHAIN_URLS", "trust_chain_urls"),
    ):
        if env.get(var):
            values[name] = env[var].strip().lower() in ("1", "true", "yes", "on")
    if env.get("OGPU_IPFS_MAX_BYTES"):
        try:
            values["max_bytes"] = int(env["OGPU_IPFS_MAX_BYTES"])
        except ValueError:
            raise IPFSConfigError(
                f"OGPU_IPFS_MAX_BYTES must be an integer, got {env['OGPU_IPFS_MAX_BYTES']!r}"
            ) from None
    return values


def get_settings() -> IPFSSettings:
    """Return the effective settings: defaults, then environment, then :func:`configure`."""
    with _lock:
        overrides = dict(_overrides)
    return IPFSSettings(**{**_from_env(), **overrides})


def _reset_fields(reset: Any) -> tuple[str, ...]:
    """The fields whose :func:`configure` overrides ``reset=`` drops."""
    names = tuple(f.name for f in dataclasses.fields(IPFSSettings))
    if isinstance(reset, bool):
        return names if reset else ()
    requested = (reset,) if isinstance(reset, str) else reset
    if not isinstance(requested, (tuple, list, set, frozenset)) or not all(
        isinstance(name, str) for name in requested
    ):
        raise IPFSConfigError(
            f"reset must be a bool, a field name or a tuple of field names, got {reset!r}"
        )
    unknown = sorted(set(requested) - set(names))
    if unknown:
        raise IPFSConfigError(f"reset names unknown settings: {', '.join(unknown)}")
    return tuple(requested)


def configure(settings: IPFSSettings | None = None, /, **changes: Any) -> IPFSSettings:
    """Set process-wide settings; returns the effective settings.

    Pass an :class:`IPFSSettings` to pin every field, or keyword arguments to change some;
    ``reset=True`` first drops earlier :func:`configure` calls, ``reset="publish_url"`` (a
    field name, or a tuple of them) only those fields' (they fall back to the environment and
    the defaults). Values are validated before anything changes (:class:`IPFSConfigError`).

    Example::

        configure(publish_url="http://127.0.0.1:5001/file/create",
                  gateway="http://127.0.0.1:5001/ipfs")
        configure(reset="publish_url")  # the publish URL from the environment or the default
        configure(reset=True)  # back to environment + defaults
    """
    dropped = _reset_fields(changes.pop("reset", False))
    if settings is not None:
        changes = {**dataclasses.asdict(settings), **changes}
    for key in ("publish_url", "gateway", "kubo_api_url"):
        if isinstance(changes.get(key), str):
            changes[key] = changes[key].rstrip("/")
    validate(changes)
    with _lock:
        for name in dropped:
            _overrides.pop(name, None)
        _overrides.update(changes)
    return get_settings()
