"""Keeping an RPC URL's secrets (API keys in the path, query or userinfo) out of messages,
reprs and the logs of the HTTP libraries below us."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["hide_url_in_logs", "redact_url", "scrub_url_secrets"]


def redact_url(url: str) -> str:
    """``url`` with its userinfo, query values, fragment and key-like path segments (16+
    letters/digits, as Infura's ``/v3/<key>`` or Alchemy's ``/v2/<key>``) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<unparsable URL>"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = ("***@" if "@" in parts.netloc else "") + host + (f":{port}" if port else "")
    path = "/".join(
        "***" if len(seg) >= 16 and re.fullmatch(r"[A-Za-z0-9_\-]+", seg) else seg
        for seg in parts.path.split("/")
    )
    query = "&".join(
        (item.split("=", 1)[0] + "=***") if "=" in item else "***"
        for item in parts.query.split("&")
        if item
    )
    return urlunsplit((parts.scheme, netloc, path, query, "***" if parts.fragment else ""))


def _url_secrets(url: str) -> list[str]:
    """The parts of ``url`` that :func:`redact_url` hides (userinfo, query and its values,
    key-like path segments, fragment), longest first."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    secrets = [parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else "", parts.fragment]
    secrets += [parts.username or "", parts.password or ""]
    if parts.query:
        secrets.append(parts.query)
        secrets += [item.split("=", 1)[-1] for item in parts.query.split("&")]
    secrets += [seg for seg in parts.path.split("/") if len(seg) >= 16]
    return sorted({secret for secret in secrets if len(secret) >= 4}, key=len, reverse=True)


def scrub_url_secrets(text: str, url: str) -> str:
    """``text`` with ``url`` (written out whole or in pieces, as the path a requests or
    urllib3 message quotes) redacted: the URL becomes :func:`redact_url`'s form and each of
    its secrets ``***``."""
    text = text.replace(url, redact_url(url))
    for secret in _url_secrets(url):
        text = text.replace(secret, "***")
    return text


class _SecretFilter(logging.Filter):
    """Redacts the registered RPC URLs' secrets from the records of the loggers it sits on
    (urllib3 logs each request's path and query at DEBUG level)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        urls = list(self.urls)
        if not urls:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business
            return True
        clean = message
        for url in urls:
            clean = scrub_url_secrets(clean, url)
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_secret_filter = _SecretFilter()
#: Third-party loggers that quote request URLs (installed on first use of a URL with secrets).
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.poolmanager")


def hide_url_in_logs(url: str) -> None:
    """Keep ``url``'s secrets out of the records of the HTTP libraries below us (urllib3
    logs request paths and queries); a URL without secrets needs nothing."""
    if not _url_secrets(url) or url in _secret_filter.urls:
        return
    _secret_filter.urls.add(url)
    for name in _URL_LOGGERS:
        logger = logging.getLogger(name)
        if _secret_filter not in logger.filters:
            logger.addFilter(_secret_filter)
