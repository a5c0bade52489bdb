"""The devnet's clock (``ogpu_devnet._clock``): block timestamps from the wall clock plus an
offset, at least one second apart, and the time controls' arithmetic."""

from __future__ import annotations

import pytest
from ogpu_devnet._clock import MAX_TIMESTAMP, Clock, ClockState
from ogpu_devnet.errors import InvalidParamsError


class Wall:
    """A wall clock that moves only when told."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_blocks_follow_the_wall_clock_and_never_repeat_a_second() -> None:
    wall = Wall(1000.7)
    clock = Clock(wall)
    assert clock.next_block_timestamp(900, consume=False) == 1000
    assert clock.next_block_timestamp(900, consume=True) == 1000 and clock.offset == 0
    # faster than one block a second: each one second after its parent, the clock following
    assert clock.next_block_timestamp(1000, consume=True) == 1001 and clock.offset == 1
    assert clock.next_block_timestamp(1001, consume=True) == 1002 and clock.offset == 2
    # ...so that time travel starts from the latest block, not from the wall clock
    assert clock.increase(10) == 12
    assert clock.next_block_timestamp(1002, consume=True) == 1012
    wall.now = 1100
    assert clock.next_block_timestamp(1012, consume=False) == 1112


def test_a_pinned_timestamp_is_used_once_and_later_blocks_continue_from_it() -> None:
    wall = Wall(1000)
    clock = Clock(wall)
    with pytest.raises(InvalidParamsError, match="greater than the latest block's"):
        clock.set_next(999, latest=999)
    clock.set_next(5000, latest=999)
    assert clock.next_block_timestamp(999, consume=False) == 5000
    assert clock.next_timestamp == 5000 and clock.offset == 0  # a peek changes nothing
    assert clock.next_block_timestamp(999, consume=True) == 5000
    assert clock.next_timestamp is None and clock.offset == 4000
    wall.now = 1003
    assert clock.next_block_timestamp(5000, consume=True) == 5003


def test_increase_time_moves_a_pinned_timestamp_too_and_is_bounded() -> None:
    clock = Clock(Wall(1000))
    clock.set_next(2000, latest=999)
    assert clock.increase(50) == 50 and clock.next_timestamp == 2050
    with pytest.raises(InvalidParamsError, match="non-negative"):
        clock.increase(-1)
    with pytest.raises(InvalidParamsError, match=str(MAX_TIMESTAMP)):
        clock.increase(MAX_TIMESTAMP - 2050 + 1)
    assert clock.state == ClockState(50, 2050)  # a refused step leaves the clock alone
    assert clock.increase(MAX_TIMESTAMP - 2050) == MAX_TIMESTAMP - 2000
    with pytest.raises(InvalidParamsError, match=str(MAX_TIMESTAMP)):
        clock.set_next(MAX_TIMESTAMP + 1, latest=0)


def test_state_and_restore_round_trip() -> None:
    clock = Clock(Wall(1000))
    saved = clock.state
    clock.increase(30)
    clock.set_next(4000, latest=1000)
    assert clock.state == ClockState(30, 4000)
    clock.restore(saved)
    assert clock.state == ClockState(0, None)
    assert clock.next_block_timestamp(0, consume=False) == 1000
