"""A Task: one job published under a Source, its attempts, responses and confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ogpu.chain._address import is_zero
from ogpu.chain.signer import Signer
from ogpu.protocol import controller
from ogpu.protocol._base import addr
from ogpu.protocol._models import (
    _Entity,
    _fetch_json,
    _or_none,
    _s,
    _snapshots,
    _task_params,
    entity,
)
from ogpu.protocol._reads import BlockTag, Call, paginate
from ogpu.types.enums import DeliveryMethod, TaskStatus
from ogpu.types.errors import TaskNotFoundError, ValidationError
from ogpu.types.metadata import ResponseSnapshot, TaskParams, TaskSnapshot
from ogpu.types.receipt import Receipt

if TYPE_CHECKING:
    from ogpu.protocol.response import Response
    from ogpu.protocol.source import Source

__all__ = ["Task"]


class Task(_Entity):
    """A Task contract."""

    __slots__ = ()
    _contract = "Task"
    _not_found = TaskNotFoundError
    _probe = "getAttemptCount"

    def get_source(self) -> Source:
        """The task's source."""
        return cast("Source", entity("Source", self._one("getSource"), self._chain))

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
        return None if is_zero(str(value)) else entity("Response", value, self._chain)

    def get_responses(self, lower: int = 0, upper: int | None = None) -> list[Response]:
        """Responses of the attempters ``[lower, upper)``: ``getResponsesOf`` is indexed like the
        attempters (count ``getAttemptCount``), so attempters without a response (zero
        addresses) are dropped and the list may be shorter than ``upper - lower``."""
        items, _ = self._page("getResponsesOf", lower, upper)
        return [entity("Response", a, self._chain) for a in items]

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
        """Snapshots of the task's responses, one block: the count, the responses, then the
        snapshots' calls in batches of the batch cap (3 round trips for a few hundred)."""
        items, block = self._page("getResponsesOf", lower, upper)
        responses = [entity("Response", a, self._chain) for a in items]
        return _snapshots(responses, self._chain, block)
