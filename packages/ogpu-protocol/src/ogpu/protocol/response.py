"""A Response: a provider's answer to a Task, and its confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ogpu.chain.signer import Signer
from ogpu.protocol import controller
from ogpu.protocol._models import _Entity, _fetch_json, _s, entity
from ogpu.protocol._reads import Call
from ogpu.types.enums import ResponseStatus
from ogpu.types.errors import ResponseNotFoundError
from ogpu.types.metadata import ResponseParams, ResponseSnapshot
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.protocol.task import Task

__all__ = ["Response"]


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
        return cast("Task", entity("Task", self.get_params().task, self._chain))

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
