"""Stateless instance classes: Source, Task, Response, Provider, Master, and snapshot_all.

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
from ogpu.protocol import controller, nexus, terminal, vault
from ogpu.protocol._base import ChainArg, addr, singleton, write
from ogpu.protocol._reads import BlockTag, Call, CallFailure, paginate, read, read_many
from ogpu.protocol._revert import RevertContext
from ogpu.types.enums import (
    DeliveryMethod,
    Environment,
    ResponseStatus,
    Role,
    SourceStatus,
    TaskStatus,
)
from ogpu.types.errors import (
    InvalidArgumentTypeError,
    MasterNotFoundError,
    NotFoundError,
    OGPUError,
    ProviderNotFoundError,
    ResponseNotFoundError,
    SourceNotFoundError,
    TaskNotFoundError,
    ValidationError,
)
from ogpu.types.metadata import (
    MasterSnapshot,
    ProviderSnapshot,
    ResponseParams,
    ResponseSnapshot,
    SourceParams,
    SourceSnapshot,
    TaskParams,
    TaskSnapshot,
)
from ogpu.types.receipt import Receipt

__all__ = ["Master", "Provider", "Response", "Source", "Task", "snapshot_all"]

E = TypeVar("E", bound="_Entity")


def _fetch_json(url: str, chain: ChainLike) -> dict[str, Any]:
    """Follow a URL read from the chain: attacker-controlled, so never trusted as a host.

    Recognised IPFS URLs are rewritten by CID to the chain's trusted gateway (policy
    ``"gateway"``, or ``"strict"`` when the user configured it in ``ogpu.ipfs``): a
    malicious on-chain URL cannot make this process call a host of its choosing, and the
    content is the same, since it is addressed by its CID.
    """
    from ogpu.ipfs import fetch_ipfs_json, get_settings

    policy: Literal["gateway", "strict"] = (
        "strict" if get_settings().url_policy == "strict" else "gateway"
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

    # ------------------------------------------------------------------ helpers

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


# ====================================================================== Source


class Source(_Entity):
    """A Source contract."""

    __slots__ = ()
    _contract = "Source"
    _not_found = SourceNotFoundError
    _probe = "getRegistrantCount"

    def get_client(self) -> str:
        """The client that owns the source."""
        return _s(self._one("getClient"))

    def get_status(self) -> SourceStatus:
        """ACTIVE or INACTIVE."""
        return SourceStatus(self._one("getStatus"))

    def get_params(self) -> SourceParams:
        """The on-chain parameters."""
        return _source_params(self._one("getSourceParams"))

    def get_metadata(self) -> dict[str, Any]:
        """The metadata document at ``imageMetadataUrl`` (via ogpu.ipfs and its URL policy)."""
        return _fetch_json(self.get_params().imageMetadataUrl, self.chain)

    def get_task_count(self) -> int:
        """Number of tasks published to this source."""
        return int(self._one("getTaskCount"))

    def get_tasks(self, lower: int = 0, upper: int | None = None) -> list[Task]:
        """Tasks ``[lower, upper)``; ``upper=None``: all (count + one batch: 2 round trips).

        The live ``Source.getTasks`` indexes absolutely (it reverts whenever its lower bound is
        above 0), so this reads ``getTasks(0, upper - 1)`` and slices, or, past 4000 tasks, the
        public ``tasks(i)`` getter per index (``ogpu.protocol._reads.SINGLE_CALL_MAX``)."""
        items, _ = self._page("getTaskCount", "getTasks", "tasks", lower, upper)
        return [Task(a, self._chain) for a in items]

    def get_registrant_count(self) -> int:
        """Number of registrant slots (unregistered ones read as the zero address)."""
        return int(self._one("getRegistrantCount"))

    def get_registrants(self, lower: int = 0, upper: int | None = None) -> list[str]:
        """Registered providers ``[lower, upper)``; zero addresses (unregistered slots) dropped.
        Read like :meth:`get_tasks` (``getRegistrants(0, upper - 1)`` or ``registrants(i)``)."""
        items, _ = self._page("getRegistrantCount", "getRegistrants", "registrants", lower, upper)
        return [str(a) for a in items]

    def get_registrant_id(self, provider: str) -> int:
        """The provider's registrant id."""
        return int(self._one("getRegistrantId", addr(provider, "provider")))

    def get_preferred_environment_of(self, provider: str) -> Environment:
        """The environment the provider registered with."""
        return Environment(self._one("preferredEnvironmentOf", addr(provider, "provider")))

    def _page(
        self, count_fn: str, page_fn: str, item_fn: str, lower: int, upper: int | None
    ) -> tuple[list[Any], BlockTag]:
        # The live Source getters index absolutely (revert whenever lower > 0): read (0, hi)
        # and slice, or the public array getter per index for long lists (see paginate).
        return paginate(
            self._chain,
            self._call(count_fn),
            lambda lo, hi: self._call(page_fn, lo, hi),
            lower,
            upper,
            on_failure=self._not_found_error,
            item_call=lambda i: self._call(item_fn, i),
        )

    def set_status(self, status: SourceStatus, *, signer: Signer | None = None) -> Receipt:
        """``Source.setStatus(status)`` directly on the source contract (owner route)."""
        if not isinstance(status, SourceStatus):
            raise InvalidArgumentTypeError("status", "a SourceStatus", type(status).__name__)
        return write(
            "Source",
            "setStatus",
            (int(status),),
            signer=signer,
            role=Role.CLIENT,
            chain=self._chain,
            to=self.address,
            ctx=lambda caller: RevertContext(
                "Source.setStatus", caller, owner_kind="source", source=self.address
            ),
        )

    def set_params(self, params: SourceParams, *, signer: Signer | None = None) -> Receipt:
        """Replace the parameters (``Nexus.updateSource``)."""
        return nexus.update_source(self.address, params, signer=signer, chain=self._chain)

    def inactivate(self, *, signer: Signer | None = None) -> Receipt:
        """Inactivate the source (``Nexus.inactivateSource``)."""
        return nexus.inactivate_source(self.address, signer=signer, chain=self._chain)

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._call("getClient"),
            self._call("getStatus"),
            self._call("getSourceParams"),
            self._call("getTaskCount"),
            self._call("getRegistrantCount"),
        ]

    def _build_snapshot(self, values: list[Any]) -> SourceSnapshot:
        client, status, params, tasks, registrants = values
        return SourceSnapshot(
            address=self.address,
            client=_s(client),
            status=SourceStatus(status),
            params=_source_params(params),
            task_count=int(tasks),
            registrant_count=int(registrants),
        )

    def snapshot(self) -> SourceSnapshot:
        """Every field in one round trip."""
        return self._build_snapshot(self._read(*self._snapshot_calls()))

    def get_task_snapshots(self, lower: int = 0, upper: int | None = None) -> list[TaskSnapshot]:
        """Snapshots of the source's tasks ``[lower, upper)``: at most 3 round trips in total
        (count, task list, all snapshots), all pinned to one block."""
        items, block = self._page("getTaskCount", "getTasks", "tasks", lower, upper)
        tasks = [Task(a, self._chain) for a in items]
        return _snapshots(tasks, self._chain, block)


# ====================================================================== Task


class Task(_Entity):
    """A Task contract."""

    __slots__ = ()
    _contract = "Task"
    _not_found = TaskNotFoundError
    _probe = "getAttemptCount"

    def get_source(self) -> Source:
        """The task's source."""
        return Source(self._one("getSource"), self._chain)

    def get_status(self) -> TaskStatus:
        """Current status."""
        return TaskStatus(self._one("getStatus"))

    def get_params(self) -> TaskParams:
        """The on-chain parameters."""
        return _task_params(self._one("taskParams"))

    def get_metadata(self) -> dict[str, Any]:
        """The task config document at ``params.config`` (via ogpu.ipfs and its URL policy)."""
        return _fetch_json(self.get_params().config, self.chain)

    def get_payment(self) -> int:
        """Escrowed payment in wei."""
        return int(self._one("getPayment"))

    def get_expiry_time(self) -> int:
        """Expiry (unix seconds)."""
        return int(self._one("getExpiryTime"))

    def get_delivery_method(self) -> DeliveryMethod:
        """Copied from the source at publish time."""
        return DeliveryMethod(self._one("getDeliveryMethod"))

    def get_attempt_count(self) -> int:
        """Number of attempts."""
        return int(self._one("getAttemptCount"))

    def get_attempters(self, lower: int = 0, upper: int | None = None) -> list[str]:
        """Providers that attempted ``[lower, upper)``; zero addresses dropped."""
        items, _ = self._page("getAttempters", lower, upper)
        return [str(a) for a in items]

    def get_attempter_id(self, provider: str) -> int:
        """The provider's attempter index."""
        return int(self._one("getAttempterId", addr(provider, "provider")))

    def get_attempt_timestamps(self, lower: int = 0, upper: int | None = None) -> list[int]:
        """Attempt timestamps ``[lower, upper)``."""
        items, _ = self._page("getAttemptTimestamps", lower, upper, drop_zero=False)
        return [int(t) for t in items]

    def get_response_of(self, provider: str) -> Response | None:
        """The provider's response, or None."""
        value = self._one("responseOf", addr(provider, "provider"))
        return None if is_zero(str(value)) else Response(value, self._chain)

    def get_responses(self, lower: int = 0, upper: int | None = None) -> list[Response]:
        """Responses of the attempters ``[lower, upper)``: ``getResponsesOf`` is indexed like the
        attempters (count ``getAttemptCount``), so attempters without a response (zero
        addresses) are dropped and the list may be shorter than ``upper - lower``."""
        items, _ = self._page("getResponsesOf", lower, upper)
        return [Response(a, self._chain) for a in items]

    def get_confirmed_response(self) -> Response | None:
        """The confirmed (winning) response, or None (two round trips at most)."""
        winner = self.get_winning_provider()
        return None if winner is None else self.get_response_of(winner)

    def get_winning_provider(self) -> str | None:
        """The provider whose response was confirmed, or None."""
        return _or_none(self._one("winningProvider"))

    def is_already_submitted(self, hash_bytes: bytes | str) -> bool:
        """Whether a response with this 32-byte keccak hash of its data was submitted."""
        if isinstance(hash_bytes, str):
            text = hash_bytes[2:] if hash_bytes.startswith("0x") else hash_bytes
            try:
                hash_bytes = bytes.fromhex(text)
            except ValueError:
                raise ValidationError("hash_bytes must be 32 bytes or 64 hex digits") from None
        if not isinstance(hash_bytes, (bytes, bytearray)) or len(hash_bytes) != 32:
            raise ValidationError("hash_bytes must be exactly 32 bytes")
        return bool(self._one("isAlreadySubmitted", bytes(hash_bytes)))

    def cancel(self, *, signer: Signer | None = None) -> Receipt:
        """Cancel the task (``Controller.cancelTask``)."""
        return controller.cancel_task(self.address, signer=signer, chain=self._chain)

    def _page(
        self, page_fn: str, lower: int, upper: int | None, *, drop_zero: bool = True
    ) -> tuple[list[Any], BlockTag]:
        return paginate(
            self._chain,
            self._call("getAttemptCount"),
            lambda lo, hi: self._call(page_fn, lo, hi),
            lower,
            upper,
            on_failure=self._not_found_error,
            drop_zero=drop_zero,
        )

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._call("getSource"),
            self._call("getStatus"),
            self._call("taskParams"),
            self._call("getPayment"),
            self._call("getExpiryTime"),
            self._call("getDeliveryMethod"),
            self._call("getAttemptCount"),
            self._call("winningProvider"),
        ]

    def _build_snapshot(self, values: list[Any]) -> TaskSnapshot:
        source, status, params, payment, expiry, delivery, attempts, winner = values
        return TaskSnapshot(
            address=self.address,
            source=_s(source),
            status=TaskStatus(status),
            params=_task_params(params),
            payment=int(payment),
            expiry_time=int(expiry),
            delivery_method=DeliveryMethod(delivery),
            attempt_count=int(attempts),
            winning_provider=_or_none(winner),
        )

    def snapshot(self) -> TaskSnapshot:
        """Every field in one round trip."""
        return self._build_snapshot(self._read(*self._snapshot_calls()))

    def get_response_snapshots(
        self, lower: int = 0, upper: int | None = None
    ) -> list[ResponseSnapshot]:
        """Snapshots of the task's responses: at most 3 round trips in total, one block."""
        items, block = self._page("getResponsesOf", lower, upper)
        responses = [Response(a, self._chain) for a in items]
        return _snapshots(responses, self._chain, block)


# ====================================================================== Response


class Response(_Entity):
    """A Response contract."""

    __slots__ = ()
    _contract = "Response"
    _not_found = ResponseNotFoundError
    _probe = "responseTimestamp"

    def get_params(self) -> ResponseParams:
        """The on-chain parameters."""
        task, provider, data, payment = self._one("getResponseParams")
        return ResponseParams(_s(task), _s(provider), str(data), int(payment))

    def get_task(self) -> Task:
        """The task this response answers."""
        return Task(self.get_params().task, self._chain)

    def get_data(self) -> str:
        """The payload URL (a chain read; no HTTP to the URL)."""
        return self.get_params().data

    def fetch_data(self) -> dict[str, Any]:
        """Follow the payload URL (one HTTP GET through ogpu.ipfs and its URL policy)."""
        return _fetch_json(self.get_data(), self.chain)

    def get_status(self) -> ResponseStatus:
        """SUBMITTED or CONFIRMED."""
        return ResponseStatus(self._one("getStatus"))

    def get_timestamp(self) -> int:
        """Submission time (unix seconds)."""
        return int(self._one("responseTimestamp"))

    def is_confirmed(self) -> bool:
        """True once confirmed."""
        return self.get_status() == ResponseStatus.CONFIRMED

    def confirm(self, *, signer: Signer | None = None) -> Receipt:
        """Confirm this response (``Controller.confirmResponse``)."""
        return controller.confirm_response(self.address, signer=signer, chain=self._chain)

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._call("getResponseParams"),
            self._call("getStatus"),
            self._call("responseTimestamp"),
        ]

    def _build_snapshot(self, values: list[Any]) -> ResponseSnapshot:
        (task, provider, data, payment), status, timestamp = values
        params = ResponseParams(_s(task), _s(provider), str(data), int(payment))
        st = ResponseStatus(status)
        return ResponseSnapshot(
            address=self.address,
            task=params.task,
            params=params,
            data=params.data,
            status=st,
            timestamp=int(timestamp),
            confirmed=st == ResponseStatus.CONFIRMED,
        )

    def snapshot(self) -> ResponseSnapshot:
        """Every field in one round trip."""
        return self._build_snapshot(self._read(*self._snapshot_calls()))


# ====================================================================== Provider / Master


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


class Provider(_Account):
    """A provider account."""

    __slots__ = ()
    _not_found = ProviderNotFoundError
    _role_check = "isProvider"

    def get_master(self) -> str:
        """The paired master (zero address when none)."""
        return _s(self._get(self._t("masterOf")))

    def get_base_data(self) -> str:
        """``Terminal.baseDataOf``."""
        return str(self._get(self._t("baseDataOf")))

    def get_live_data(self) -> str:
        """``Terminal.liveDataOf``."""
        return str(self._get(self._t("liveDataOf")))

    def is_provider(self) -> bool:
        """``Terminal.isProvider``."""
        return bool(self._get(self._t("isProvider")))

    def get_default_agent_disabled(self) -> bool:
        """``Terminal.defaultAgentDisabled``."""
        return bool(self._get(self._t("defaultAgentDisabled")))

    def get_unbonding_timestamp(self) -> int:
        """When the unbonding matures."""
        return int(self._get(self._v("unbondingTimestamp")))

    def get_sanction(self) -> int:
        """Sanctioned amount."""
        return int(self._get(self._v("sanctionOf")))

    def announce_master(self, master: str, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.announceMaster(master)``."""
        return terminal.announce_master(master, signer=signer, chain=self._chain)

    def set_default_agent_disabled(self, value: bool, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.setDefaultAgentDisabled(value)``."""
        return terminal.set_default_agent_disabled(value, signer=signer, chain=self._chain)

    def register_to(self, source: str, env: int, *, signer: Signer | None = None) -> Receipt:
        """``Nexus.register(source, self, env)``."""
        return nexus.register(source, self.address, env, signer=signer, chain=self._chain)

    def unregister_from(self, source: str, *, signer: Signer | None = None) -> Receipt:
        """``Nexus.unregister(source, self)``."""
        return nexus.unregister(source, self.address, signer=signer, chain=self._chain)

    def attempt(
        self, task: str, suggested_payment: int, *, signer: Signer | None = None
    ) -> Receipt:
        """``Nexus.attempt(task, self, suggested_payment)``."""
        return nexus.attempt(
            task, self.address, suggested_payment, signer=signer, chain=self._chain
        )

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._t("masterOf"),
            self._t("baseDataOf"),
            self._t("liveDataOf"),
            self._t("isProvider"),
            self._t("defaultAgentDisabled"),
            self._v("balanceOf"),
            self._v("lockupOf"),
            self._v("unbondingOf"),
            self._v("unbondingTimestamp"),
            self._v("totalEarningsOf"),
            self._v("frozenPayment"),
            self._v("sanctionOf"),
            self._v("isEligible"),
            self._v("isWhitelisted"),
        ]

    def _build_snapshot(self, values: list[Any]) -> ProviderSnapshot:
        (master, base, live, is_prov, dad, bal, lock, unb, unb_ts, earn, frozen, sanc, elig, wl) = (
            values
        )
        return ProviderSnapshot(
            address=self.address,
            master=_s(master),
            base_data=str(base),
            live_data=str(live),
            is_provider=bool(is_prov),
            default_agent_disabled=bool(dad),
            balance=int(bal),
            lockup=int(lock),
            unbonding=int(unb),
            unbonding_timestamp=int(unb_ts),
            total_earnings=int(earn),
            frozen_payment=int(frozen),
            sanction=int(sanc),
            is_eligible=bool(elig),
            is_whitelisted=bool(wl),
        )

    def snapshot(self) -> ProviderSnapshot:
        """Terminal and Vault state in one round trip."""
        return self._build_snapshot(read(self._snapshot_calls(), self._chain))


class Master(_Account):
    """A master account."""

    __slots__ = ()
    _not_found = MasterNotFoundError
    _role_check = "isMaster"

    def get_provider(self) -> str:
        """The paired provider (zero address when none)."""
        return _s(self._get(self._t("providerOf")))

    def is_master(self) -> bool:
        """``Terminal.isMaster``."""
        return bool(self._get(self._t("isMaster")))

    def announce_provider(
        self, provider: str, amount: int, *, signer: Signer | None = None
    ) -> Receipt:
        """``Terminal.announceProvider(provider, amount)`` paying ``amount``."""
        return terminal.announce_provider(provider, amount, signer=signer, chain=self._chain)

    def remove_provider(self, provider: str, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.removeProvider(provider)``."""
        return terminal.remove_provider(provider, signer=signer, chain=self._chain)

    def remove_container(
        self, provider: str, source: str, *, signer: Signer | None = None
    ) -> Receipt:
        """``Terminal.removeContainer(provider, source)``."""
        return terminal.remove_container(provider, source, signer=signer, chain=self._chain)

    def set_agent(self, agent: str, value: bool, *, signer: Signer | None = None) -> Receipt:
        """``Terminal.setAgent(agent, value)``."""
        return terminal.set_agent(agent, value, signer=signer, chain=self._chain)

    def _snapshot_calls(self) -> list[Call]:
        return [
            self._t("providerOf"),
            self._t("isMaster"),
            self._v("balanceOf"),
            self._v("lockupOf"),
            self._v("unbondingOf"),
            self._v("totalEarningsOf"),
            self._v("frozenPayment"),
            self._v("isEligible"),
            self._v("isWhitelisted"),
        ]

    def _build_snapshot(self, values: list[Any]) -> MasterSnapshot:
        provider, is_m, bal, lock, unb, earn, frozen, elig, wl = values
        return MasterSnapshot(
            address=self.address,
            provider=_s(provider),
            is_master=bool(is_m),
            balance=int(bal),
            lockup=int(lock),
            unbonding=int(unb),
            total_earnings=int(earn),
            frozen_payment=int(frozen),
            is_eligible=bool(elig),
            is_whitelisted=bool(wl),
        )

    def snapshot(self) -> MasterSnapshot:
        """Terminal and Vault state in one round trip."""
        return self._build_snapshot(read(self._snapshot_calls(), self._chain))


# ====================================================================== many at once


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
