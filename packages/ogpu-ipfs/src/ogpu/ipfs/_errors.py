"""The typed error tree of the OpenGPU SDK's IPFS layer (and the SDK's root error).

::

    OGPUError                       root of every error the SDK raises
      IPFSError                     anything that went wrong publishing or fetching content
        IPFSFetchError(url, reason) could not get a usable answer (network, timeout, bad body)
          IPFSTimeoutError          the per-request timeout or the overall deadline ran out
          IPFSTooLargeError         the body exceeded the size cap (``max_bytes``)
        IPFSGatewayError(gateway, status_code)   the server answered with an error status,
                                    or a success status with an unusable body
        IPFSIntegrityError(url, expected_cid, actual_cid)   bytes do not match their CID
        IPFSAddressError(address, reason)        not a recognised IPFS address (also ValueError)
          IPFSUntrustedURLError                  a non-IPFS URL refused by the URL policy
        IPFSConfigError(reason)     invalid setting or argument (also ValueError)

"Could not reach / could not read" (:class:`IPFSFetchError`) is kept apart from "the server
said no" (:class:`IPFSGatewayError`). Every error pickles and its message names the URL
involved.

One idiom for every error class of every distribution: each constructor argument is kept on the
instance under its own name (``IPFSGatewayError(gateway, status_code, reason=...)`` has
``.gateway``, ``.status_code``, ``.reason``), and :class:`OGPUError` pickles any subclass by
reading those fields back through the constructor's signature. A class that keeps the
constructor of :class:`Exception` pickles by its ``args``.
"""

from __future__ import annotations

from typing import Any


class OGPUError(Exception):
    """Root of every error raised by the OpenGPU SDK.

    Subclasses keep every constructor argument as an attribute of the same name; pickling
    (multiprocessing, task queues) rebuilds the error from those fields, then restores its
    ``args`` (the message, possibly extended) and any other attributes.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return _reduce_from_fields(self)


def _reduce_from_fields(exc: BaseException) -> tuple[Any, ...]:
    """``__reduce__`` for an exception whose constructor arguments are its fields.

    Raises :class:`pickle.PicklingError` naming the field when a constructor argument was not
    kept on the instance (a bug in that class, caught by the repository's pickling test).
    """
    import pickle  # here, not at import time: `import ogpu.ipfs` stays cheap

    cls = type(exc)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    params = _constructor_params(cls)
    if params is None:
        args = list(exc.args)
    else:
        for name, keyword_only in params:
            if not hasattr(exc, name):
                raise pickle.PicklingError(
                    f"{cls.__qualname__} does not keep its constructor argument {name!r} "
                    "as an attribute, so it cannot be pickled"
                )
            if keyword_only:
                kwargs[name] = getattr(exc, name)
            else:
                args.append(getattr(exc, name))
    state = {**exc.__dict__, "args": exc.args}
    return (_rebuild, (cls, tuple(args), kwargs), state)


def _constructor_params(cls: type[BaseException]) -> tuple[tuple[str, bool], ...] | None:
    """(name, keyword-only) per constructor parameter; None for Exception's own constructor."""
    import inspect
    import pickle

    init = cls.__init__
    if init in (BaseException.__init__, Exception.__init__) or not inspect.isfunction(init):
        return None
    params = []
    for p in list(inspect.signature(init).parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise pickle.PicklingError(f"{cls.__qualname__}.__init__ takes *args/**kwargs")
        params.append((p.name, p.kind is p.KEYWORD_ONLY))
    return tuple(params)


def _rebuild(
    cls: type[BaseException], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> BaseException:
    return cls(*args, **kwargs)


class IPFSError(OGPUError):
    """An IPFS publish or fetch failed."""


class IPFSFetchError(IPFSError):
    """The request failed before a usable answer: network error, timeout, unusable body.

    Attributes:
        url: the URL being fetched (or published to).
        reason: what went wrong, in words.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(url, reason)
        self.url = url
        self.reason = reason

    def __str__(self) -> str:
        return f"IPFS request to {self.url} failed: {self.reason}"


class IPFSTimeoutError(IPFSFetchError, TimeoutError):
    """The per-request timeout or the overall deadline ran out."""


class IPFSTooLargeError(IPFSFetchError):
    """The response body exceeded the size cap; it was not read whole.

    Attributes:
        limit: the cap in bytes that was exceeded.
    """

    def __init__(self, url: str, reason: str, *, limit: int = 0) -> None:
        super().__init__(url, reason)
        self.limit = limit


class IPFSGatewayError(IPFSError):
    """The server answered with an error status (or an unusable success body).

    Attributes:
        gateway: the URL that answered (the gateway URL fetched, or the publish endpoint).
        status_code: the HTTP status received.
        reason: optional detail (e.g. "response has no 'link' field").
        retry_after: seconds from a ``Retry-After`` header, if any.
    """

    def __init__(
        self,
        gateway: str,
        status_code: int,
        *,
        reason: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(gateway, status_code)
        self.gateway = gateway
        self.status_code = status_code
        self.reason = reason
        self.retry_after = retry_after

    def __str__(self) -> str:
        text = f"IPFS gateway {self.gateway} returned HTTP {self.status_code}"
        return f"{text}: {self.reason}" if self.reason else text


class IPFSIntegrityError(IPFSError):
    """Bytes do not match the CID they were addressed by (fetched or published).

    Attributes:
        url: the URL (or link) whose content failed verification.
        expected_cid: the CID the content should have.
        actual_cid: what the bytes hash to, when known ("" otherwise).
    """

    def __init__(self, url: str, expected_cid: str, actual_cid: str = "", reason: str = "") -> None:
        super().__init__(url, expected_cid, actual_cid, reason)
        self.url = url
        self.expected_cid = expected_cid
        self.actual_cid = actual_cid
        self.reason = reason

    def __str__(self) -> str:
        text = f"content of {self.url} does not match CID {self.expected_cid}"
        if self.actual_cid:
            text += f" (the bytes hash to {self.actual_cid})"
        return f"{text}: {self.reason}" if self.reason else text


class IPFSAddressError(IPFSError, ValueError):
    """Not a recognised IPFS address (path/subdomain gateway URL, ``ipfs://`` URL, bare CID)."""

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(address, reason)
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return f"not an IPFS address {self.address!r}: {self.reason}"


class IPFSConfigError(IPFSError, ValueError):
    """An invalid setting or argument, rejected before any request is made."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


class MalformedDataError(IPFSError, ValueError):
    """Bytes that do not decode (CID, varint, dag-pb block); internal, always handled."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IPFSUntrustedURLError(IPFSAddressError):
    """A URL that is not IPFS content, refused by the ``strict`` URL policy before any request.

    URLs read from the chain (``Source.get_metadata()``, ``Task.get_metadata()``,
    ``Response.fetch_data()``) are fetched only as IPFS content through the trusted gateway,
    so an on-chain URL cannot make the process call a host of its choosing (SSRF). Opt in to
    fetching other URLs with ``ogpu.ipfs.configure(trust_chain_urls=True)`` or
    ``OGPU_IPFS_TRUST_CHAIN_URLS=1``.
    """
