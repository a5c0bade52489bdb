"""Batched contract reads (public): many ``eth_call`` s in one JSON-RPC batch.

For reads the entity classes do not offer, with the same transport, batching, block pinning
and revert mapping as ``snapshot()``:

- :class:`Call` names one view call: contract address, ABI name (``"Source"``, ``"Task"``,
  ``"Vault"``, ...), function and arguments;
- :func:`read_many` sends them in one round trip (per batch cap) and returns the decoded
  values in order, a :class:`CallFailure` in place of a call that reverted or failed;
  ``extra=[(method, params), ...]`` adds raw JSON-RPC requests to the same batch;
- :func:`read` is one call, raising its typed error.

Example::

    >>> from ogpu.protocol.reads import Call, read_many
    >>> values, _ = read_many([Call(source, "Source", "getStatus"),
    ...                        Call(vault, "Vault", "balanceOf", (client,))])  # doctest: +SKIP

ogpu-client's ``publish_task`` uses it for its one pre-upload round trip.
"""

from __future__ import annotations

from ogpu.protocol._reads import Call, CallFailure, read, read_many

__all__ = ["Call", "CallFailure", "read", "read_many"]
