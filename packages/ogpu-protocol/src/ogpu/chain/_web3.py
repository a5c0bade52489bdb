"""web3.py's HTTP provider without the RPC URL's secrets in what it shows.

web3.py's :class:`~web3.HTTPProvider` prints ``endpoint_uri`` in ``str(provider)`` and in its
DEBUG log records, and lets ``requests`` errors through whose messages (and ``request`` /
``response`` objects) quote the URL: ``https://rpc.example/v3/<key>`` would end up in logs and
tracebacks. :class:`RedactingHTTPProvider` keeps the real URL in its session manager only:

- ``endpoint_uri`` is the redacted URL (:func:`~ogpu.chain._rpc.redact_url`), so web3.py's
  ``str``, log records and session-cache keys carry no secret;
- its session manager posts to the real URL and re-raises a ``requests`` error as a new
  error of the same type (web3.py's retry on ``ConnectionError``/``HTTPError``/``Timeout``
  keeps working) whose message is scrubbed, with no ``request``/``response`` and no chained
  cause (the original quotes the URL in its ``args`` and its urllib3 cause);
- urllib3's records of the requests (path and query at DEBUG level) are scrubbed by the
  filter :func:`~ogpu.chain._rpc.hide_url_in_logs` installs.

Imported only by :meth:`ogpu.chain.ChainConfig.get_web3` (``import ogpu.chain`` loads no web3).
"""

from __future__ import annotations

from typing import Any

import requests
from ogpu.chain._rpc import hide_url_in_logs, redact_url, scrub_url_secrets
from web3 import HTTPProvider
from web3._utils.http_session_manager import HTTPSessionManager

__all__ = ["RedactingHTTPProvider"]


def _scrubbed(exc: requests.RequestException, url: str) -> requests.RequestException:
    """A copy of ``exc`` (same type) whose message has ``url``'s secrets redacted."""
    message = scrub_url_secrets(f"{exc}", url)
    try:
        return type(exc)(message)
    except Exception:  # a subclass with another constructor: its nearest plain base
        for base in type(exc).__mro__[1:]:
            if issubclass(base, requests.RequestException):
                try:
                    return base(message)
                except Exception:
                    continue
        return requests.RequestException(message)


class _SessionManager(HTTPSessionManager):
    """Posts to the real URL whatever (redacted) ``endpoint_uri`` web3.py passes, over the
    chain's pooled session from every thread (web3.py 7 would cache one per thread)."""

    def __init__(self, url: str, session: requests.Session) -> None:
        super().__init__()  # web3.py 7 and 8 (8's explicit_session is what this class does)
        self._real_url: Any = url  # eth_typing.URI, a str (eth-typing is not ours to import)
        self._session = session

    def cache_and_return_session(
        self,
        endpoint_uri: Any,
        session: requests.Session | None = None,
        request_timeout: float | None = None,
    ) -> requests.Session:
        return self._session

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {redact_url(self._real_url)}>"

    def make_post_request(
        self, endpoint_uri: Any, data: bytes | dict[str, Any], **kwargs: Any
    ) -> bytes:
        try:
            return super().make_post_request(self._real_url, data, **kwargs)
        except requests.RequestException as exc:
            error = _scrubbed(exc, self._real_url)
        raise error  # outside the handler: no __context__ quoting the URL


class RedactingHTTPProvider(HTTPProvider):
    """An :class:`~web3.HTTPProvider` whose ``endpoint_uri``, ``str``, ``repr``, log records
    and errors carry the RPC URL redacted (requests still go to the real URL)."""

    def __init__(self, url: str, *, session: requests.Session) -> None:
        safe = redact_url(url)
        super().__init__(safe, session=session)
        self._request_session_manager = _SessionManager(url, session)
        hide_url_in_logs(url)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint_uri}>"
