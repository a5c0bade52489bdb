"""Controller: task publishing, cancel and confirm (one function per contract method)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ogpu.chain._address import check_amount
from ogpu.chain.signer import Signer
from ogpu.protocol._base import ChainArg, addr, vault_lookups, write
from ogpu.protocol._events import emitted_address
from ogpu.protocol._reads import Call, read
from ogpu.protocol._revert import RevertContext
from ogpu.types.enums import Role
from ogpu.types.errors import InvalidArgumentTypeError, TaskExpiredError
from ogpu.types.metadata import TaskParams
from ogpu.types.receipt import Receipt

__all__ = ["cancel_task", "confirm_response", "extract_task_address", "publish_task"]


def _check_task_params(params: Any) -> tuple[str, str, int, int]:
    if not isinstance(params, TaskParams):
        raise InvalidArgumentTypeError("params", "a TaskParams", type(params).__name__)
    source = addr(params.source, "params.source")
    if not isinstance(params.config, str):
        raise InvalidArgumentTypeError("params.config", "a str URL", type(params.config).__name__)
    expiry = check_amount(params.expiryTime, argument="params.expiryTime")
    payment = check_amount(params.payment, argument="params.payment")
    return (source, params.config, expiry, payment)


def publish_task(
    params: TaskParams,
    *,
    signer: Signer | None = None,
    receipt_timeout: float = 120,
    deadline: float | None = None,
    budget: float | None = None,
    chain: ChainArg = None,
    before_send: Callable[[], None] | None = None,
    check_expiry: bool = True,
) -> Receipt:
    """``Controller.publishTask(params)``; signer defaults to ``CLIENT_PRIVATE_KEY``.

    The live Controller accepts a task whose ``expiryTime`` has already passed (it lands
    on-chain expired, escrow frozen until someone expires it): with ``check_expiry`` (the
    default) an ``expiryTime`` not after the chain's latest block time raises
    :class:`~ogpu.types.TaskExpiredError` right before signing, so nothing is sent (the block
    comes from the executor's first round trip, re-read if older than
    :data:`ogpu.chain.tx.BLOCK_FRESH` s: no extra round trip under the nonce lock). Pass
    ``check_expiry=False`` only to publish such a task on purpose (tests).

    ``deadline`` (``time.monotonic()`` based) and ``budget`` bound the call: past the deadline
    before broadcasting raises :class:`~ogpu.types.PublishTimeoutError` and sends nothing.
    ``before_send`` runs right before signing. Use :func:`extract_task_address` on the receipt.
    Anyone may publish to an ACTIVE source; the escrow comes from the signer's Vault balance
    and the signer owns the task.
    """
    tup = _check_task_params(params)
    if not isinstance(check_expiry, bool):
        raise InvalidArgumentTypeError("check_expiry", "a bool", type(check_expiry).__name__)

    def refuse_if_expired(now: int) -> None:
        if tup[2] <= now:
            raise TaskExpiredError("", tup[2])

    def ctx(caller: str) -> RevertContext:
        return RevertContext(
            "Controller.publishTask",
            caller,
            owner_kind="source",
            source=tup[0],
            account=caller,
            required=tup[3],
            expiry=tup[2],
            lookups=vault_lookups(chain, caller),
        )

    return write(
        "Controller",
        "publishTask",
        (tup,),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=ctx,
        receipt_timeout=receipt_timeout,
        deadline=deadline,
        budget=budget,
        before_send=before_send,
        check_time=refuse_if_expired if check_expiry else None,
    )


def cancel_task(
    task_address: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Controller.cancelTask(task)``; only the task's client."""
    task = addr(task_address, "task_address")
    return write(
        "Controller",
        "cancelTask",
        (task,),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=lambda caller: RevertContext(
            "Controller.cancelTask",
            caller,
            owner_kind="task",
            task=task,
            lookups={"expiry": lambda: read([Call(task, "Task", "getExpiryTime")], chain)[0]},
        ),
    )


def confirm_response(
    response_address: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Controller.confirmResponse(response)``; only the task's client."""
    response = addr(response_address, "response_address")

    def task_of_response() -> str:
        params = read([Call(response, "Response", "getResponseParams")], chain)[0]
        return addr(params[0], "task")

    return write(
        "Controller",
        "confirmResponse",
        (response,),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=lambda caller: RevertContext(
            "Controller.confirmResponse",
            caller,
            owner_kind="task",
            response=response,
            lookups={"task": task_of_response},
        ),
    )


def extract_task_address(receipt: Receipt, *, chain: ChainArg = None) -> str:
    """The new task's address from a :func:`publish_task` receipt (``TaskPublished``).

    Only a ``TaskPublished`` log emitted by the chain's Nexus is accepted; logs with the same
    topic from any other address are ignored.
    """
    return emitted_address(receipt, "TaskPublished", "task", chain)
