"""A bounded, content-addressed cache of fetched bytes.

Content under a CID never changes, so a repeated fetch can skip the network. Two kinds of
entry keep a hostile gateway from poisoning it:

- verified content (bytes checked against their CID) is keyed by ``(cid, path)`` and
  serves any later fetch of that CID, from any host;
- unverified content is keyed by ``(origin, cid, path)`` and only serves later unverified
  fetches from the same origin, which could have served those bytes anyway.

Memory use is bounded (least recently used entries go first). With a directory configured,
verified content is also written there (one file per entry, named by a hash of the key) and
read back across processes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

_Key = tuple[str, str, str]  # (origin or "" if verified, cid, path)


class ContentCache:
    """Thread-safe LRU of bytes, bounded by total size (``max_bytes``; 0 disables it)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[_Key, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def _file(self, directory: str, key: _Key) -> str:
        import hashlib

        name = hashlib.sha256("\0".join(key).encode()).hexdigest()
        return os.path.join(directory, f"{key[1]}-{name[:16]}")

    def get(
        self, cid: str, path: str, origin: str, *, verified_only: bool, directory: str | None
    ) -> bytes | None:
        """Return cached bytes for ``cid``/``path`` acceptable to this fetch, or ``None``."""
        keys: list[_Key] = [("", cid, path)]
        if not verified_only:
            keys.append((origin, cid, path))
        with self._lock:
            for key in keys:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
        if directory:
            file = self._file(directory, keys[0])
            try:
                with open(file, "rb") as fh:
                    data = fh.read()
            except OSError:
                return None
            self._remember(keys[0], data)
            return data
        return None

    def put(
        self,
        cid: str,
        path: str,
        origin: str,
        data: bytes,
        *,
        verified: bool,
        directory: str | None,
    ) -> None:
        """Remember ``data``; verified entries also go to ``directory`` when one is set."""
        key: _Key = ("" if verified else origin, cid, path)
        self._remember(key, data)
        if verified and directory:
            file = self._file(directory, key)
            tmp = f"{file}.tmp{os.getpid()}.{threading.get_ident()}"
            try:
                os.makedirs(directory, exist_ok=True)
                with open(tmp, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, file)  # atomic: readers see the whole entry or none
            except OSError:
                # The disk cache is an optimisation; failing to write it is not an error, but
                # a half-written temporary file must not stay behind.
                import contextlib

                with contextlib.suppress(OSError):
                    os.unlink(tmp)

    def _remember(self, key: _Key, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old)
            self._entries[key] = data
            self._size += len(data)
            while self._size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def forget_unverified(self, data: bytes) -> None:
        """Drop the unverified entries holding this very ``data`` object (not an equal copy).

        A gateway's unverified answer that turned out unusable (an HTML page served with
        status 200) must not be served again from the cache once the gateway recovers.
        """
        with self._lock:
            for key in [k for k, v in self._entries.items() if v is data and k[0]]:
                self._size -= len(self._entries.pop(key))

    def resize(self, max_bytes: int) -> None:
        """Change the budget, evicting as needed."""
        with self._lock:
            self.max_bytes = max_bytes
            while self._size > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted)

    def clear(self) -> None:
        """Drop every in-memory entry (the directory, if any, is left alone)."""
        with self._lock:
            self._entries.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._entries)


_cache = ContentCache(0)


def shared_cache(max_bytes: int) -> ContentCache:
    """Return the process-wide cache, resized to ``max_bytes`` if the setting changed."""
    if _cache.max_bytes != max_bytes:
        _cache.resize(max_bytes)
    return _cache


def clear_cache() -> None:
    """Empty the process-wide in-memory content cache."""
    _cache.clear()
