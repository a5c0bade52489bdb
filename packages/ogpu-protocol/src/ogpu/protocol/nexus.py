"""Nexus: sources, registration and attempts (one function per contract method).

Responses are submitted by the provider's source runtime only; this SDK has no such call.
"""

from __future__ import annotations

from typing import Any

from ogpu.chain._address import check_amount
from ogpu.chain.signer import Signer
from ogpu.protocol._base import ChainArg, addr, singleton, vault_lookups, write
from ogpu.protocol._events import emitted_address
from ogpu.protocol._reads import Call, read
from ogpu.protocol._revert import RevertContext
from ogpu.types.enums import DeliveryMethod, Environment, Role
from ogpu.types.errors import InvalidArgumentTypeError, ValidationError
from ogpu.types.metadata import SourceParams
from ogpu.types.receipt import Receipt

__all__ = [
    "attempt",
    "extract_source_address",
    "get_source_count",
    "get_sources",
    "inactivate_source",
    "publish_source",
    "register",
    "unregister",
    "update_source",
]


def _check_source_params(params: Any) -> tuple[Any, ...]:
    if not isinstance(params, SourceParams):
        raise InvalidArgumentTypeError("params", "a SourceParams", type(params).__name__)
    addr(params.client, "params.client")
    envs = params.imageEnvironments
    if isinstance(envs, bool) or not isinstance(envs, int) or not 1 <= int(envs) <= 7:
        raise ValidationError(
            f"params.imageEnvironments must be a bit mask between 1 and 7 "
            f"(CPU=1, NVIDIA=2, AMD=4), got {envs!r}"
        )
    for name in ("minPayment", "minAvailableLockup", "maxExpiryDuration", "lastUpdateTime"):
        check_amount(getattr(params, name), argument=f"params.{name}")
    delivery = params.deliveryMethod
    value = delivery.value if isinstance(delivery, DeliveryMethod) else delivery
    if value not in (0, 1) or isinstance(value, bool):
        raise ValidationError(f"params.deliveryMethod must be 0 or 1, got {delivery!r}")
    if not isinstance(params.imageMetadataUrl, str) or not isinstance(
        params.optionalParamsUrl, str
    ):
        raise InvalidArgumentTypeError("params URLs", "str", "another type")
    tup = params.to_tuple()
    return (addr(tup[0], "params.client"), *tup[1:])


def publish_source(
    params: SourceParams, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Nexus.publishSource(params)``; signer defaults to ``CLIENT_PRIVATE_KEY``.

    Use :func:`extract_source_address` on the receipt to get the new Source.
    """
    tup = _check_source_params(params)
    return write(
        "Nexus",
        "publishSource",
        (tup,),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=lambda caller: RevertContext("Nexus.publishSource", caller, owner_kind="source"),
    )


def update_source(
    source_address: str,
    params: SourceParams,
    *,
    signer: Signer | None = None,
    chain: ChainArg = None,
) -> Receipt:
    """``Nexus.updateSource(source, params)``; only the source's client (or its agent)."""
    source = addr(source_address, "source_address")
    tup = _check_source_params(params)
    return write(
        "Nexus",
        "updateSource",
        (source, tup),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=lambda caller: RevertContext(
            "Nexus.updateSource", caller, owner_kind="source", source=source
        ),
    )


def inactivate_source(
    source_address: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Nexus.inactivateSource(source)``: ACTIVE -> INACTIVE, one way."""
    source = addr(source_address, "source_address")
    return write(
        "Nexus",
        "inactivateSource",
        (source,),
        signer=signer,
        role=Role.CLIENT,
        chain=chain,
        ctx=lambda caller: RevertContext(
            "Nexus.inactivateSource", caller, owner_kind="source", source=source
        ),
    )


def _check_env(env: Any) -> int:
    if isinstance(env, bool) or not isinstance(env, int):
        raise InvalidArgumentTypeError("env", "an Environment or int", type(env).__name__)
    if int(env) not in (int(Environment.CPU), int(Environment.NVIDIA), int(Environment.AMD)):
        raise ValidationError(f"env must be exactly one of CPU=1, NVIDIA=2, AMD=4, got {int(env)}")
    return int(env)


def register(
    source: str, provider: str, env: int, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Nexus.register(source, provider, env)``; signer: the provider, its master or an agent
    (default ``PROVIDER_PRIVATE_KEY``)."""
    src = addr(source, "source")
    prov = addr(provider, "provider")
    environment = _check_env(env)

    def ctx(caller: str) -> RevertContext:
        lookups = vault_lookups(chain, prov)

        def required_lockup() -> int:
            vault = singleton("VAULT", chain)
            params, minimum = read(
                [
                    Call(src, "Source", "getSourceParams"),
                    Call(vault, "Vault", "MIN_LOCKUP_PER_SOURCE"),
                ],
                chain,
            )
            return max(int(params[4]), int(minimum))

        lookups["required_lockup"] = required_lockup
        return RevertContext("Nexus.register", caller, source=src, account=prov, lookups=lookups)

    return write(
        "Nexus",
        "register",
        (src, prov, environment),
        signer=signer,
        role=Role.PROVIDER,
        chain=chain,
        ctx=ctx,
    )


def unregister(
    source: str, provider: str, *, signer: Signer | None = None, chain: ChainArg = None
) -> Receipt:
    """``Nexus.unregister(source, provider)``."""
    src = addr(source, "source")
    prov = addr(provider, "provider")
    return write(
        "Nexus",
        "unregister",
        (src, prov),
        signer=signer,
        role=Role.PROVIDER,
        chain=chain,
        ctx=lambda caller: RevertContext("Nexus.unregister", caller, source=src, account=prov),
    )


def attempt(
    task: str,
    provider: str,
    suggested_payment: int,
    *,
    signer: Signer | None = None,
    chain: ChainArg = None,
) -> Receipt:
    """``Nexus.attempt(task, provider, suggestedPayment)``. On an expired task the chain marks
    it EXPIRED and records no attempt (no revert)."""
    tsk = addr(task, "task")
    prov = addr(provider, "provider")
    payment = check_amount(suggested_payment, argument="suggested_payment")

    def ctx(caller: str) -> RevertContext:
        return RevertContext(
            "Nexus.attempt",
            caller,
            owner_kind="task",
            task=tsk,
            account=prov,
            lookups={"expiry": lambda: read([Call(tsk, "Task", "getExpiryTime")], chain)[0]},
        )

    return write(
        "Nexus",
        "attempt",
        (tsk, prov, payment),
        signer=signer,
        role=Role.PROVIDER,
        chain=chain,
        ctx=ctx,
    )


def get_source_count(*, chain: ChainArg = None) -> int:
    """``Nexus.getSourceCount()``."""
    return int(read([Call(singleton("NEXUS", chain), "Nexus", "getSourceCount")], chain)[0])


def get_sources(lower: int = 0, upper: int | None = None, *, chain: ChainArg = None) -> list[str]:
    """``Nexus.getSources`` paginated (``upper=None``: all, in pages of 100)."""
    from ogpu.protocol._reads import paginate

    nexus = singleton("NEXUS", chain)
    items, _ = paginate(
        chain,
        Call(nexus, "Nexus", "getSourceCount"),
        lambda lo, hi: Call(nexus, "Nexus", "getSources", (lo, hi)),
        lower,
        upper,
    )
    return [str(i) for i in items]


def extract_source_address(receipt: Receipt, *, chain: ChainArg = None) -> str:
    """The new source's address from a :func:`publish_source` receipt (``SourcePublished``).

    Only a ``SourcePublished`` log emitted by the chain's Nexus is accepted; logs with the
    same topic from any other address are ignored.
    """
    return emitted_address(receipt, "SourcePublished", "source", chain)
