"""Test controls: time travel, mining, auto-mining and snapshots (``evm_*``, ``hardhat_*``,
``anvil_*`` and ``miner_*`` methods, as Hardhat, anvil and geth name them).

A multi-block mine is bounded by :data:`MAX_MINE_BLOCKS` and mined :data:`MINE_CHUNK` blocks
per hold of the chain lock, so other clients run in between.
"""

from __future__ import annotations

from typing import Any

from ogpu_devnet._jsonrpc import method
from ogpu_devnet._params import MethodsBase, _hex, _param, _quantity
from ogpu_devnet.errors import InvalidParamsError

#: Most blocks one ``evm_mine``/``hardhat_mine``/``anvil_mine`` call may mine (above: -32602).
MAX_MINE_BLOCKS = 10_000
#: Blocks mined per hold of the chain lock by a multi-block mine (other clients run between).
MINE_CHUNK = 256


class ControlMethods(MethodsBase):
    """The test controls of one server."""

    # ------------------------------------------------------------------ test controls

    @method("evm_increaseTime", "anvil_increaseTime", max_params=1)
    def rpc_evm_increaseTime(self, params: list[Any]) -> int:
        return self.chain.increase_time(_quantity(_param(params, 0), "seconds"))

    @method("evm_setNextBlockTimestamp", "anvil_setNextBlockTimestamp", max_params=1)
    def rpc_evm_setNextBlockTimestamp(self, params: list[Any]) -> None:
        self.chain.set_next_block_timestamp(_quantity(_param(params, 0), "timestamp"))

    @method("evm_mine", max_params=1)
    def rpc_evm_mine(self, params: list[Any]) -> str:
        arg = _param(params, 0)
        if isinstance(arg, dict):
            ts = arg.get("timestamp")
            blocks = _quantity(arg.get("blocks", 1), "blocks")
            self._mine(blocks, timestamp=None if ts is None else _quantity(ts, "timestamp"))
        else:
            self.chain.mine(1, timestamp=None if arg is None else _quantity(arg, "timestamp"))
        return "0x0"

    @method("hardhat_mine", "anvil_mine", max_params=2)
    def rpc_hardhat_mine(self, params: list[Any]) -> None:
        count = _quantity(_param(params, 0, 1), "block count")
        interval = _quantity(_param(params, 1, 1), "interval")
        self._mine(count, interval=max(1, interval))

    def _mine(self, count: int, *, timestamp: int | None = None, interval: int = 1) -> None:
        """Mine ``count`` blocks, at most :data:`MAX_MINE_BLOCKS`, :data:`MINE_CHUNK` per hold
        of the chain lock (other clients' requests run in between)."""
        if count < 1 or count > MAX_MINE_BLOCKS:
            raise InvalidParamsError(f"block count must be between 1 and {MAX_MINE_BLOCKS}")
        first = min(count, MINE_CHUNK)
        self.chain.mine(first, timestamp=timestamp, interval=interval)
        done = first
        while done < count:
            step = min(count - done, MINE_CHUNK)
            nxt = int(self.chain.head().timestamp) + interval if interval > 1 else None
            self.chain.mine(step, timestamp=nxt, interval=interval)
            done += step

    def _automine_flag(self, params: list[Any]) -> bool:
        value = _param(params, 0)
        if not isinstance(value, bool):
            raise InvalidParamsError("expected one boolean (true: mine every transaction at once)")
        return value

    @method("evm_setAutomine", max_params=1)
    def rpc_evm_setAutomine(self, params: list[Any]) -> bool:
        self.chain.set_automine(self._automine_flag(params))
        return True

    @method("anvil_setAutomine", max_params=1)
    def rpc_anvil_setAutomine(self, params: list[Any]) -> None:
        self.chain.set_automine(self._automine_flag(params))

    @method("anvil_getAutomine", "hardhat_getAutomine")
    def rpc_anvil_getAutomine(self, params: list[Any]) -> bool:
        return self.chain.automine

    @method("miner_stop")
    def rpc_miner_stop(self, params: list[Any]) -> None:
        self.chain.set_automine(False)

    @method("miner_start")
    def rpc_miner_start(self, params: list[Any]) -> None:
        self.chain.set_automine(True)

    @method("evm_snapshot", "anvil_snapshot")
    def rpc_evm_snapshot(self, params: list[Any]) -> str:
        return _hex(self.chain.snapshot())

    @method("evm_revert", "anvil_revert", max_params=1)
    def rpc_evm_revert(self, params: list[Any]) -> bool:
        return self.chain.revert(_quantity(_param(params, 0), "snapshot id"))
