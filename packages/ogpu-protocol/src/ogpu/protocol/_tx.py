"""The transaction executor bound to the protocol's revert decoding.

The executor itself (nonces, fees, retries that never send an intent twice) is
:mod:`ogpu.chain.tx`; this module hands it :func:`ogpu.protocol._revert.revert_mapper` so a
revert comes back as the typed error of the operation (:class:`RevertContext`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ogpu.chain import tx as _executor
from ogpu.chain.config import ChainLike
from ogpu.protocol._revert import RevertContext, decode_revert, revert_mapper
from ogpu.types.receipt import Receipt

__all__ = ["decode_revert", "transact"]


def transact(
    *,
    to: str,
    data: str,
    signer: Any,
    ctx: RevertContext,
    chain: ChainLike | int | None = None,
    value: int = 0,
    receipt_timeout: float = 120.0,
    max_retries: int = 3,
    deadline: float | None = None,
    budget: float | None = None,
    before_send: Callable[[], None] | None = None,
    max_tx_fee: int | None = None,
    check_time: Callable[[int], None] | None = None,
) -> Receipt:
    """:func:`ogpu.chain.tx.transact` with reverts mapped to typed errors in ``ctx``'s terms."""
    return _executor.transact(
        to=to,
        data=data,
        signer=signer,
        revert=revert_mapper(ctx),
        operation=ctx.operation,
        chain=chain,
        value=value,
        receipt_timeout=receipt_timeout,
        max_retries=max_retries,
        deadline=deadline,
        budget=budget,
        before_send=before_send,
        max_tx_fee=max_tx_fee,
        check_time=check_time,
    )
