"""Fetching into a file: streamed to a temporary file, verified as it arrives, renamed whole."""

from __future__ import annotations

import os
from typing import IO, TYPE_CHECKING, Any

from ogpu.ipfs import _http
from ogpu.ipfs._cid import CID, DAG_PB, RAW, decode_cid
from ogpu.ipfs._errors import IPFSAddressError, IPFSConfigError, IPFSIntegrityError
from ogpu.ipfs._fetch import (
    _block_base,
    _call_options,
    _call_settings,
    _fetch_verified_dag,
    _resolve,
    _verifiable,
    logger,
)
from ogpu.ipfs._settings import IPFSSettings, UrlPolicy

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["fetch_to_file"]


class _FileSink:
    """The body of a fetch, written to an open temporary file and hashed as it arrives."""

    def __init__(self, fh: IO[bytes], cid: CID | None) -> None:
        self.fh = fh
        self.cid = cid
        self.size = 0
        self._start()

    def _start(self) -> None:
        from hashlib import sha256

        from ogpu.ipfs._cid import DagBuilder

        self.sha256 = sha256() if self.cid is not None and self.cid.codec == RAW else None
        self.dag = DagBuilder() if self.cid is not None and self.cid.codec == DAG_PB else None

    def reset(self) -> None:
        self.fh.seek(0)
        self.fh.truncate()
        self.size = 0
        self._start()

    def write(self, chunk: bytes) -> None:
        self.fh.write(chunk)
        self.size += len(chunk)
        if self.sha256 is not None:
            self.sha256.update(chunk)
        if self.dag is not None:
            self.dag.update(chunk)


def _verify_file(
    url: str, fetch_url: str, cid: CID, sink: _FileSink, s: IPFSSettings, call: dict[str, Any]
) -> None:
    """:func:`_verify` for a body streamed to ``sink``'s file (never read back whole)."""
    if sink.sha256 is not None:
        if cid.multihash[2:] != sink.sha256.digest():
            raise IPFSIntegrityError(url, cid.text, reason="raw block hash mismatch")
        return
    assert sink.dag is not None
    computed = sink.dag.root()
    if decode_cid(computed).multihash == cid.multihash:
        return
    logger.debug("verifying %s block by block (default DAG gives %s)", url, computed)
    fh = sink.fh
    fh.flush()
    fh.seek(0)

    def compare(piece: bytes) -> None:
        if fh.read(len(piece)) != piece:
            raise IPFSIntegrityError(
                url, cid.text, computed, "served bytes differ from the CID's DAG"
            )

    _fetch_verified_dag(url, cid, _block_base(fetch_url, s.gateway), s, call, emit=compare)
    if fh.read(1):
        raise IPFSIntegrityError(url, cid.text, computed, "served bytes differ from the CID's DAG")


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask is process-wide, not thread-safe)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _target(path: str | os.PathLike[str], overwrite: bool) -> Path:
    """The file to write, refused (before any request) when it cannot or must not be."""
    from pathlib import Path

    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise IPFSConfigError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not isinstance(overwrite, bool):
        raise IPFSConfigError(f"overwrite must be a bool, got {overwrite!r}")
    target = Path(path)
    if not str(path) or target.is_dir():
        raise IPFSConfigError(f"cannot write {str(path)!r}: it is a directory")
    directory = target.absolute().parent
    if not directory.is_dir():
        raise IPFSConfigError(f"cannot write {str(path)!r}: no directory {str(directory)!r}")
    if not overwrite and (target.exists() or target.is_symlink()):
        raise IPFSConfigError(
            f"cannot write {str(path)!r}: it exists (pass overwrite=True to replace it)"
        )
    return target


def _place(tmp: str, target: Path, overwrite: bool) -> None:
    """Move the finished temporary file to ``target`` in one step."""
    if overwrite:
        os.replace(tmp, target)
        return
    try:  # a hard link never replaces a file that appeared since the check
        os.link(tmp, target)
    except FileExistsError:
        raise IPFSConfigError(
            f"cannot write {str(target)!r}: it appeared while fetching (pass overwrite=True "
            f"to replace it)"
        ) from None
    except OSError:  # no hard links on this file system: check, then rename
        if target.exists() or target.is_symlink():
            raise IPFSConfigError(
                f"cannot write {str(target)!r}: it appeared while fetching (pass "
                f"overwrite=True to replace it)"
            ) from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def fetch_to_file(
    url: str,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    timeout: float | None = None,
    verify: bool | None = None,
    gateway: str | None = None,
    url_policy: UrlPolicy | None = None,
    max_bytes: int | None = None,
    retries: int | None = None,
    backoff: float | None = None,
    deadline: float | None = None,
) -> Path:
    """Fetch an IPFS address into the file ``path``, whole or not at all; return its path.

    The body streams to a temporary file beside ``path`` (never held in memory whole), is
    verified against its CID as it arrives when ``verify`` is on (as
    :func:`fetch_ipfs_bytes` does), and only then renamed to ``path`` in one step. On any
    failure (network, timeout, size cap, integrity, interrupt) the temporary file is removed
    and an existing ``path`` stays as it was. The content cache is not used.

    Args:
        url: the address (gateway URL, ``ipfs://`` URL or bare CID); see
            :func:`fetch_ipfs_bytes` for how it is resolved.
        path: the file to write; its directory must exist.
        overwrite: replace an existing file (default: refuse it before any request).
        timeout, verify, gateway, url_policy, max_bytes, retries, backoff, deadline: as for
            :func:`fetch_ipfs_bytes` (``None``: the configured value).

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        IPFSConfigError: before any request, when ``path`` is a directory, its directory
            does not exist, or it exists and ``overwrite`` is false (also when it appears
            while fetching); or an invalid option.
        IPFSFetchError: network failure or a body cut short (as :func:`fetch_ipfs_bytes`);
            its subclasses :class:`IPFSTimeoutError` and :class:`IPFSTooLargeError` for the
            deadline and the size cap.
        IPFSGatewayError: the gateway answered with an error status.
        IPFSIntegrityError: ``verify`` is on and the bytes do not match the CID.
        OSError: the file could not be written (e.g. the disk is full).

    Example::

        fetch_to_file("ipfs://QmWfVY9y3xjsixTgbd9AorQxH7VtMpzfx2HaWtsoUYecaX", "model.bin",
                      verify=True)
    """
    import tempfile

    s = _call_settings(timeout, verify, gateway, url_policy, max_bytes, retries, backoff, deadline)
    target = _target(path, overwrite)
    fetch_url, address = _resolve(url, s.url_policy, s.gateway)
    if s.verify and address is None:
        raise IPFSAddressError(url, "cannot verify: the URL holds no CID")
    cid = _verifiable(url, address) if s.verify and address is not None else None
    call = _call_options(s)
    logger.debug("fetching %s (as %s) to %s", url, fetch_url, target)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "w+b") as fh:
            sink = _FileSink(fh, cid)
            _http.send("GET", fetch_url, max_bytes=s.max_bytes, sink=sink, **call)
            if cid is not None:
                _verify_file(url, fetch_url, cid, sink, s, call)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # a normal file's mode, not mkstemp's 0600
        _place(tmp, target, overwrite)
    except BaseException:
        import contextlib

        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target
