"""The devnet's own error root, apart from the SDK's.

``except OGPUError`` around a user's SDK calls must not swallow a broken fake node, a failed
deployment or a bad provider handler: those are :class:`DevnetError`, not
:class:`ogpu.ipfs.OGPUError`. Like the SDK's errors, each keeps its constructor arguments as
attributes of the same name and pickles by reading them back.
"""

from __future__ import annotations

from typing import Any

from ogpu.ipfs import OGPUError

__all__ = ["DevnetError"]


class DevnetError(Exception):
    """Root of every error the devnet (chain, JSON-RPC server, pinning service, provider
    runtime, deployment) raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The SDK root's pickling is generic (fields read back through the constructor).
        return OGPUError.__reduce__(self)  # type: ignore[arg-type]
