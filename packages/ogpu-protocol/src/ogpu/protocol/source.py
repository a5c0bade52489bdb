"""A Source: the task template a client publishes (its parameters, status and tasks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogpu.chain.signer import Signer
from ogpu.protocol import nexus
from ogpu.protocol._base import addr, write
from ogpu.protocol._models import _Entity, _fetch_json, _s, _snapshots, _source_params, entity
from ogpu.protocol._reads import BlockTag, Call, paginate
from ogpu.protocol._revert import RevertContext
from ogpu.types.enums import Environment, Role, SourceStatus
from ogpu.types.errors import InvalidArgumentTypeError, SourceNotFoundError
from ogpu.types.metadata import SourceParams, SourceSnapshot, TaskSnapshot
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.protocol.task import Task

__all__ = ["Source"]


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
        return [entity("Task", a, self._chain) for a in items]

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
        """Snapshots of the source's tasks ``[lower, upper)``, all pinned to one block: the
        count, the task list, then every snapshot's calls in batches of the RPC client's batch
        cap (500 calls by default: 250 tasks = 6 round trips in all)."""
        items, block = self._page("getTaskCount", "getTasks", "tasks", lower, upper)
        tasks = [entity("Task", a, self._chain) for a in items]
        return _snapshots(tasks, self._chain, block)
