"""JSON from untrusted peers, decoded without letting its nesting crash the process (public).

Gateways, pinning services and JSON-RPC nodes are untrusted input. ``json.loads`` recurses
once per nesting level; in a process that raised its recursion limit (py-evm does, on import)
a few hundred kilobytes of ``[[[[...`` can overflow the C stack. :func:`loads` checks the depth
(at most :data:`MAX_DEPTH`, in linear time) before decoding. ogpu-protocol's JSON-RPC client
uses it. :func:`dumps` is its mirror for what we publish: it refuses NaN/Infinity and nesting
deeper than :data:`MAX_WRITE_DEPTH` (what readers accept), so nothing is uploaded that cannot
be read back; ogpu-client checks task configs with it before any upload.

Example::

    >>> from ogpu.ipfs.safe_json import loads
    >>> loads(b'{"a": [1]}')
    {'a': [1]}
"""

from __future__ import annotations

from ogpu.ipfs._json import MAX_DEPTH, MAX_WRITE_DEPTH, dumps, loads

__all__ = ["MAX_DEPTH", "MAX_WRITE_DEPTH", "dumps", "loads"]
