"""What the instance classes (:mod:`ogpu.protocol.source`, ``task``, ``response``,
``provider``, ``master``) share: the base class, the Terminal/Vault role view, value helpers
and :func:`snapshot_all`.

An instance holds only its address (and an optional chain binding): construction, repr,
str, equality (case-insensitive) and hashing never do I/O. ``X.load(address)`` checks that
the address holds the right kind of contract in one batched round trip.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Literal, TypeVar

from ogpu.chain._address import is_zero, to_checksum
from ogpu.chain._rpc import MAX_BATCH, RpcErrorObject
from ogpu.chain.config import ChainConfig, ChainLike
from ogpu.chain.signer import Signer
from ogpu.protocol import vault
from ogpu.protocol._base import ChainArg, singleton
from ogpu.protocol._reads import BlockTag, Call, CallFailure, read, read_many
from ogpu.types.errors import InvalidArgumentTypeError, NotFoundError, OGPUError
from ogpu.types.metadata import SourceParams, TaskParams
from ogpu.types.receipt import Receipt

__all__ = ["entity", "snapshot_all"]

E = TypeVar("E", bound="_Entity")


def _fetch_json(url: str, chain: ChainLike) -> dict[str, Any]:
    """Follow a URL read from the chain: attacker-controlled, so never trusted as a host.

    Only IPFS content is fetched, rewritten by CID to the chain's trusted gateway (policy
    ``"strict"``); any other URL (a loopback or internal host, ``file:``, ...) raises
    :class:`~ogpu.ipfs.IPFSUntrustedURLError` before any request. The user may opt in to
    fetching other URLs as they are (``ogpu.ipfs.configure(trust_chain_urls=True)``, policy
    ``"gateway"``: IPFS URLs are still rewritten).
    """
    from ogpu.ipfs import fetch_ipfs_json, get_settings

    policy: Literal["gateway", "strict"] = (
        "gateway" if get_settings().trust_chain_urls else "strict"
    )
    gateway = ChainConfig.get_ipfs_gateway_url(chain)
    return fetch_ipfs_json(url, gateway=gateway, url_policy=policy)


class _Entity:
    """Base: an address plus an optional chain binding (None: the current chain per call)."""

    __slots__ = ("_chain", "address")
    _contract: ClassVar[str] = ""
    _not_found: ClassVar[type[NotFoundError]] = NotFoundError
    #: a cheap view only this kind of contract answers (load() probe)
    _probe: ClassVar[str] = ""
    #: Every entity class by name, filled as each is defined: the modules of Source, Task and
    #: Response build each other's instances through :func:`entity`, not by importing each other.
    _kinds: ClassVar[dict[str, type[_Entity]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _Entity._kinds[cls.__name__] = cls

    def __init__(self, address: str, chain: ChainLike | int | None = None) -> None:
        self.address: str = to_checksum(address, argument=f"{type(self).__name__.lower()} address")
        self._chain = chain

    @property
    def chain(self) -> ChainLike:
        """The chain this instance reads (its binding, else the current chain)."""
        return ChainConfig.resolve(self._chain)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address!r})"

    def __str__(self) -> str:
        return self.address

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Entity)
        return self.address.lower() == other.address.lower()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.address.lower()))

    def __reduce__(self) -> Any:
        return (type(self), (self.address, self._chain))

    def _call(self, name: str, *args: Any) -> Call:
        return Call(self.address, self._contract, name, args)

    def _not_found_error(self, failure: CallFailure) -> OGPUError:
        if failure.kind in ("empty", "decode", "revert"):
            return self._not_found(self.address)
        return failure.to_exception()

    def _read(self, *calls: Call) -> list[Any]:
        return read(list(calls), self._chain, on_failure=self._not_found_error)

    def _one(self, name: str, *args: Any) -> Any:
        return self._read(self._call(name, *args))[0]

    @classmethod
    def load(cls: type[E], address: str, chain: ChainLike | int | None = None) -> E:
        """An instance after checking (one round trip) that ``address`` is this kind of contract.

        Raises the matching NotFoundError when there is no code or the probe fails.
        """
        instance = cls(address, chain)
        values, extra = read_many(
            [instance._call(cls._probe)],
            chain,
            extra=[("eth_getCode", [instance.address, "latest"])],
        )
        code = extra[0]
        if isinstance(code, RpcErrorObject):
            raise code.to_exception()
        if not isinstance(code, str) or code in ("0x", "0x0", ""):
            raise cls._not_found(instance.address)
        if isinstance(values[0], CallFailure):
            raise instance._not_found_error(values[0])
        return instance

    # snapshot protocol (used by snapshot_all)
    def _snapshot_calls(self) -> list[Call]:
        raise NotImplementedError

    def _build_snapshot(self, values: list[Any]) -> Any:
        raise NotImplementedError


def entity(kind: str, address: str, chain: ChainLike | int | None) -> Any:
    """An instance of the entity class named ``kind`` (``"Source"``, ``"Task"``, ...)."""
    return _Entity._kinds[kind](address, chain)


def _s(value: Any) -> str:
    return to_checksum(value)


def _source_params(values: Any) -> SourceParams:
    params = SourceParams.from_tuple(values)
    params.client = to_checksum(params.client)
    return params


def _task_params(values: Any) -> TaskParams:
    params = TaskParams.from_tuple(values)
    params.source = to_checksum(params.source)
    return params


def _or_none(value: Any) -> str | None:
    return None if is_zero(str(value)) else to_checksum(value)


class _Account(_Entity):
    """A role view over an externally owned account (Terminal + Vault reads)."""

    __slots__ = ()
    _role_check: ClassVar[str] = ""

    def _t(self, name: str) -> Call:
        return Call(singleton("TERMINAL", self._chain), "Terminal", name, (self.address,))

    def _v(self, name: str) -> Call:
        return Call(singleton("VAULT", self._chain), "Vault", name, (self.address,))

    def _get(self, call: Call) -> Any:
        return read([call], self._chain)[0]

    @classmethod
    def load(cls: type[E], address: str, chain: ChainLike | int | None = None) -> E:
        """An instance after checking the Terminal knows the address in this role."""
        instance = cls(address, chain)
        assert isinstance(instance, _Account)
        if not bool(instance._get(instance._t(instance._role_check))):
            raise cls._not_found(instance.address)
        return instance

    def get_balance(self) -> int:
        """Liquid Vault balance."""
        return int(self._get(self._v("balanceOf")))

    def get_lockup(self) -> int:
        """Vault lockup."""
        return int(self._get(self._v("lockupOf")))

    def get_unbonding(self) -> int:
        """Amount unbonding."""
        return int(self._get(self._v("unbondingOf")))

    def get_total_earnings(self) -> int:
        """Lifetime earnings."""
        return int(self._get(self._v("totalEarningsOf")))

    def get_frozen_payment(self) -> int:
        """Escrowed payments."""
        return int(self._get(self._v("frozenPayment")))

    def is_eligible(self) -> bool:
        """``Vault.isEligible``."""
        return bool(self._get(self._v("isEligible")))

    def is_whitelisted(self) -> bool:
        """``Vault.isWhitelisted``."""
        return bool(self._get(self._v("isWhitelisted")))

    def stake(self, amount: int, *, signer: Signer) -> Receipt:
        """Lock ``amount`` (``Vault.lock``); explicit signer required."""
        return vault.lock(amount, signer=signer, chain=self._chain)

    def unstake(self, amount: int, *, signer: Signer) -> Receipt:
        """Start unbonding ``amount`` (``Vault.unbond``)."""
        return vault.unbond(amount, signer=signer, chain=self._chain)

    def cancel_unbonding(self, *, signer: Signer) -> Receipt:
        """``Vault.cancelUnbonding``."""
        return vault.cancel_unbonding(signer=signer, chain=self._chain)

    def claim_earnings(self, *, signer: Signer) -> Receipt:
        """Claim matured unbonding (``Vault.claim``)."""
        return vault.claim(signer=signer, chain=self._chain)

    def deposit_to_vault(self, amount: int, *, signer: Signer) -> Receipt:
        """Deposit ``amount`` to this account's Vault balance."""
        return vault.deposit(self.address, amount, signer=signer, chain=self._chain)

    def withdraw_from_vault(self, amount: int, *, signer: Signer) -> Receipt:
        """Withdraw ``amount`` from the signer's liquid Vault balance."""
        return vault.withdraw(amount, signer=signer, chain=self._chain)


def _snapshots(instances: Sequence[_Entity], chain: ChainArg, block: BlockTag | None) -> list[Any]:
    if not instances:
        return []
    groups = [inst._snapshot_calls() for inst in instances]
    calls = [c for group in groups for c in group]
    if block is None:
        if len(calls) <= MAX_BATCH:
            block = "latest"
        else:  # several POSTs: pin them all to one block
            from ogpu.chain._rpc import hex_int

            _, extra = read_many([], chain, extra=[("eth_blockNumber", [])])
            block = hex_int(extra[0])
    values, _ = read_many(calls, chain, block=block)
    out: list[Any] = []
    pos = 0
    for inst, group in zip(instances, groups, strict=False):
        chunk = values[pos : pos + len(group)]
        pos += len(group)
        for value in chunk:
            if isinstance(value, CallFailure):
                raise inst._not_found_error(value)
        out.append(inst._build_snapshot(chunk))
    return out


def snapshot_all(instances: Iterable[Any], *, chain: ChainArg = None) -> list[Any]:
    """Snapshots of many instances (any mix of Source/Task/Response/Provider/Master) in one
    batched round trip (one per 500 calls, pinned to one block), in input order.

    All instances are read on ``chain`` (default: the first instance's binding, else the
    current chain).
    """
    items = list(instances)
    for item in items:
        if not isinstance(item, _Entity):
            raise InvalidArgumentTypeError(
                "instances", "Source/Task/Response/Provider/Master objects", type(item).__name__
            )
    if chain is None and items:
        chain = items[0]._chain
    return _snapshots(items, chain, None)
