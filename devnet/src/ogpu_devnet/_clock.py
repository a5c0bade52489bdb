"""The devnet's clock: the timestamp each new block gets, and the time controls.

Block time is wall-clock time plus an offset. The offset grows with ``evm_increaseTime``, and
whenever blocks come faster than one a second it follows the chain (each block is at least one
second after its parent, and later time travel starts from the latest block, not from the wall
clock). ``evm_setNextBlockTimestamp`` pins the next block's timestamp; later blocks continue
from it. The clock holds no chain: the latest block's timestamp is passed in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from ogpu_devnet.errors import InvalidParamsError

__all__ = ["MAX_TIMESTAMP", "Clock", "ClockState"]

MAX_TIMESTAMP = 2**63 - 1
"""Latest block timestamp the time controls accept (EIP-4803's bound)."""


class ClockState(NamedTuple):
    """What a snapshot (or the journal) keeps of the clock."""

    offset: int
    next_timestamp: int | None


class Clock:
    """Block timestamps from ``now()`` (wall-clock seconds) plus an offset."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._now = now
        self.offset = 0
        """Seconds the chain's clock runs ahead of the wall clock."""
        self.next_timestamp: int | None = None
        """The timestamp pinned for the next block, if any."""

    @property
    def state(self) -> ClockState:
        return ClockState(self.offset, self.next_timestamp)

    def restore(self, state: ClockState) -> None:
        """Go back to a saved :attr:`state`."""
        self.offset, self.next_timestamp = state

    def next_block_timestamp(self, parent_timestamp: int, *, consume: bool) -> int:
        """The timestamp the block after one at ``parent_timestamp`` gets; with ``consume``
        that block is being mined (a pinned timestamp is used up, the offset follows it)."""
        now = int(self._now())
        if self.next_timestamp is not None:
            ts = max(self.next_timestamp, parent_timestamp + 1)
            if consume:
                self.next_timestamp = None
                self.offset = ts - now
            return ts
        ts = max(parent_timestamp + 1, now + self.offset)
        if consume:
            # The clock never lags the chain: when blocks come faster than one per second,
            # later time travel starts from the latest block, not from the wall clock.
            self.offset = ts - now
        return ts

    def increase(self, seconds: int) -> int:
        """Move the clock of the next blocks forward (``evm_increaseTime``); returns the total
        offset in seconds."""
        if seconds < 0:
            raise InvalidParamsError("evm_increaseTime needs a non-negative number of seconds")
        base = max(int(self._now()) + self.offset, self.next_timestamp or 0)
        if base + seconds > MAX_TIMESTAMP:
            raise InvalidParamsError(f"block timestamps cannot exceed {MAX_TIMESTAMP}")
        if self.next_timestamp is not None:
            self.next_timestamp += seconds
        self.offset += seconds
        return self.offset

    def set_next(self, timestamp: int, latest: int) -> None:
        """The next block gets exactly ``timestamp`` (``evm_setNextBlockTimestamp``); it must be
        after ``latest``, the latest block's timestamp."""
        if timestamp > MAX_TIMESTAMP:
            raise InvalidParamsError(f"block timestamps cannot exceed {MAX_TIMESTAMP}")
        if timestamp <= latest:
            raise InvalidParamsError(
                f"timestamp {timestamp} must be greater than the latest block's ({latest})"
            )
        self.next_timestamp = timestamp
