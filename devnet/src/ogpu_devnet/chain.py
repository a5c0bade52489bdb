"""The devnet chain: a py-evm chain (built through eth-tester's PyEVMBackend) driven like a node.

Every transaction is mined into its own block as soon as it arrives (anvil's default; with
auto-mining off, transactions wait in a pool until the next mined block; a future nonce waits
in a geth-style "queued" set until its gap fills), all execution is serialised by one lock, and
the chain is deterministic: the same funded accounts (anvil's well-known test mnemonic) and,
because account 0 deploys the protocol first on a fresh chain, the same contract addresses on
every start.

:class:`DevnetChain` is the facade tying the parts together under its lock, with snapshots and
reverts: the py-evm engine (:mod:`ogpu_devnet._evm`, the only code touching py-evm objects;
everything handed out is a record of :mod:`ogpu_devnet._records`), the pool
(:mod:`ogpu_devnet._pool`), the clock (:mod:`ogpu_devnet._clock`) and, with a ``state_dir``,
the journal that makes the chain persistent (:mod:`ogpu_devnet._journal`: replayed on start,
it reproduces the chain block for block, same hashes).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_utils.address import to_canonical_address

# Re-exported: the old home of the clock's, the pool's and the records' public names.
from ogpu_devnet._clock import MAX_TIMESTAMP as MAX_TIMESTAMP
from ogpu_devnet._clock import Clock, ClockState
from ogpu_devnet._journal import JOURNAL_VERSION, Journal
from ogpu_devnet._pool import MAX_QUEUED_PER_SENDER as MAX_QUEUED_PER_SENDER
from ogpu_devnet._pool import MAX_QUEUED_TOTAL as MAX_QUEUED_TOTAL
from ogpu_devnet._pool import REPLACEMENT_PRICE_BUMP as REPLACEMENT_PRICE_BUMP
from ogpu_devnet._pool import PooledTx, TxPool
from ogpu_devnet._records import BlockRecord, HeaderRecord, ReceiptRecord, TxRecord
from ogpu_devnet._records import CallParams as CallParams
from ogpu_devnet._records import LogEntry as LogEntry
from ogpu_devnet._records import LogFilter as LogFilter

# Re-exported: the errors' old home.
from ogpu_devnet.errors import DevnetError as DevnetError
from ogpu_devnet.errors import ExecutionError as ExecutionError
from ogpu_devnet.errors import ExecutionRevertedError as ExecutionRevertedError
from ogpu_devnet.errors import InvalidParamsError as InvalidParamsError
from ogpu_devnet.errors import StateDirError as StateDirError
from ogpu_devnet.errors import TransactionRejectedError as TransactionRejectedError
from ogpu_devnet.errors import decode_revert_reason as decode_revert_reason

if TYPE_CHECKING:
    from ogpu_devnet._evm import Engine

__all__ = [
    "DEFAULT_BALANCE_WEI",
    "DEFAULT_CHAIN_ID",
    "MAX_QUEUED_PER_SENDER",
    "MAX_QUEUED_TOTAL",
    "MAX_TIMESTAMP",
    "REPLACEMENT_PRICE_BUMP",
    "TEST_MNEMONIC",
    "CallParams",
    "DevAccount",
    "DevnetChain",
    "ExecutionError",
    "ExecutionRevertedError",
    "InvalidParamsError",
    "LogEntry",
    "LogFilter",
    "StateDirError",
    "TransactionRejectedError",
    "decode_revert_reason",
    "default_accounts",
]

DEFAULT_CHAIN_ID = 31071
"""Chain id of the devnet (``ChainId.OGPU_DEVNET`` in the SDK)."""

DEFAULT_BALANCE_WEI = 10_000 * 10**18
"""Genesis balance of every funded account (10 000 ether)."""

TEST_MNEMONIC = "test test test test test test test test test test test junk"
"""anvil's and Hardhat's public test mnemonic; never use these keys for anything of value."""

# Derived once from TEST_MNEMONIC at m/44'/60'/0'/0/i (i = 0..9) with eth_account's
# Account.from_mnemonic; they are the public keys anvil and Hardhat print too.
_TEST_KEYS: tuple[tuple[str, str], ...] = (
    ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"),
    ("0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"),
    ("0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a"),
    ("0x90F79bf6EB2c4f870365E785982E1f101E93b906", "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6"),
    ("0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a"),
    ("0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"),
    ("0x976EA74026E726554dB657fA54763abd0C3a0aa9", "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e"),
    ("0x14dC79964da2C08b23698B3D3cc7Ca32193d9955", "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356"),
    ("0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"),
    ("0xa0Ee7A142d267C1f36714E4a8F75612F20a79720", "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"),
)  # fmt: skip


# --------------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class DevAccount:
    """A funded devnet account. Its key is a public test key; it is never shown in reprs."""

    address: str
    private_key: str = field(repr=False)


def default_accounts(count: int = 10) -> list[DevAccount]:
    """The first ``count`` (at most 10) accounts of the public test mnemonic."""
    if not 0 < count <= len(_TEST_KEYS):
        raise InvalidParamsError(f"account count must be between 1 and {len(_TEST_KEYS)}")
    return [DevAccount(address, "0x" + key) for address, key in _TEST_KEYS[:count]]


@dataclass(frozen=True, slots=True)
class _Snapshot:
    block_hash: bytes
    clock: ClockState


_NEXT_BLOCK_TAGS = frozenset(("latest", "pending", "safe", "finalized"))


# --------------------------------------------------------------------------- chain


class DevnetChain:
    """One py-evm chain, auto-mining, with anvil-style time controls and snapshots.

    All public methods are thread safe (one re-entrant lock serialises them). Blocks,
    transactions and receipts are handed out as frozen records
    (:class:`~ogpu_devnet._records.BlockRecord`, ``TxRecord``, ``ReceiptRecord``).
    """

    def __init__(
        self,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        state_dir: str | os.PathLike[str] | None = None,
        accounts: Sequence[DevAccount] | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        """Create (or, with a non-empty ``state_dir``, restore) the chain.

        ``params`` are extra genesis settings stored in ``chain.json`` and compared on restart
        (the devnet stores its unbonding period and minimum lockup there).
        """
        from ogpu_devnet._evm import Engine  # loads py-evm: only when a chain is built

        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 < chain_id < 2**64:
            raise InvalidParamsError("chain_id must be a positive integer below 2**64")
        self.lock = threading.RLock()
        self.chain_id = chain_id
        self.accounts = list(accounts) if accounts is not None else default_accounts()
        self._keys = {a.address.lower(): a.private_key for a in self.accounts}
        self._clock = Clock()
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_counter = 0
        self._revert_listeners: list[Callable[[int], None]] = []
        self._automine = True
        self.meta: dict[str, Any] = {}
        self.restored = False

        journal = Journal(state_dir) if state_dir is not None else None
        if journal is not None and journal.exists:
            self.meta = journal.load_meta(
                chain_id, [a.address for a in self.accounts], params or {}
            )
            genesis_timestamp = int(self.meta["genesis_timestamp"])
            self.restored = True
        else:
            genesis_timestamp = int(time.time())
            self.meta = {
                "version": JOURNAL_VERSION,
                "chain_id": chain_id,
                "genesis_timestamp": genesis_timestamp,
                "accounts": [a.address for a in self.accounts],
                "params": dict(params or {}),
            }
        self._engine: Engine = Engine(
            chain_id, genesis_timestamp, self.accounts, DEFAULT_BALANCE_WEI
        )
        self._pool = TxPool(self._engine.next_balance)
        self._journal = journal
        if journal is not None:
            if self.restored:
                journal.replay(self._replay_entry)
                journal.open()
            else:
                journal.start(self.meta)

    # ------------------------------------------------------------------ persistence

    def save_meta(self, **updates: Any) -> None:
        """Merge ``updates`` into the stored genesis metadata (no-op without a state dir)."""
        with self.lock:
            self.meta.update(updates)
            if self._journal is not None:
                self._journal.save_meta(self.meta)

    def _record(self, op: str, **fields: Any) -> None:
        if self._journal is not None:
            self._journal.record(op, self._clock.state, **fields)

    def _replay_entry(self, entry: dict[str, Any]) -> None:
        op = entry["op"]
        if op == "tx":
            raw = bytes.fromhex(entry["raw"])
            tx, handle = self._engine.decode(raw)
            self._engine.execute(tx, handle, int(entry["ts"]))
        elif op == "mine":
            self._engine.mine_empty(int(entry["ts"]))
        elif op == "block":
            handles = [self._engine.decode(bytes.fromhex(raw))[1] for raw in entry["raws"]]
            self._engine.mine_with(handles, int(entry["ts"]))
        elif op == "snapshot":
            self.snapshot()
        elif op == "revert":
            self.revert(int(entry["id"]))
        elif op != "time":
            raise StateDirError(f"unknown journal operation {op!r}")
        self._clock.restore(Journal.clock_of(entry))

    def close(self) -> None:
        """Close the journal file."""
        with self.lock:
            if self._journal is not None:
                self._journal.close()

    # ------------------------------------------------------------------ head and clock

    def head(self) -> HeaderRecord:
        """The header of the latest mined block."""
        with self.lock:
            return self._engine.head()

    def block_number(self) -> int:
        """The latest mined block number."""
        with self.lock:
            return self._engine.head_number()

    def _next_timestamp(self, *, consume: bool) -> int:
        return self._clock.next_block_timestamp(self._engine.head_timestamp(), consume=consume)

    # ------------------------------------------------------------------ transactions

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Accept a signed transaction; returns its hash.

        With auto-mining on (the default) it is executed and mined in its own block at once; a
        transaction that reverts is still mined (status 0), as anvil and geth do. With
        auto-mining off it waits in the pool until :meth:`mine` (``evm_mine``) or turning
        auto-mining back on includes it; one that reuses the nonce of a pooled transaction
        from the same sender replaces it, in its place, if it raises both fee caps by 10 %
        (else "replacement transaction underpriced").

        A transaction whose nonce is above the sender's next (pending) nonce is *queued*, as
        geth's txpool does: its hash is answered, ``eth_getTransactionByHash`` shows it with
        ``blockNumber`` null, the ``pending`` transaction count ignores it, and it is executed
        (auto-mining on: each in its own block, right after the one that fills the gap) or
        moved into the pool (auto-mining off) once every lower nonce is there. Queued
        transactions are replaced by nonce under the same 10 % rule, bounded by
        :data:`MAX_QUEUED_PER_SENDER` and :data:`MAX_QUEUED_TOTAL` ("txpool is full"), dropped
        by a snapshot revert, and not journaled until mined (a restart forgets them).
        """
        with self.lock:
            tx, handle = self._engine.decode(raw)
            entry = PooledTx(raw, tx, handle)
            if not self._automine:
                if self._pool.add(entry, self.get_nonce(tx.sender, "pending")):
                    self._promote(tx.sender)
                return tx.hash
            queued = self._pool.queued.get(tx.sender)
            if (queued and tx.nonce in queued) or tx.nonce > self._engine.next_nonce(tx.sender):
                self._pool.queue(entry)
                return tx.hash
            self._mine_sent(entry)
            if queued:
                self._promote(tx.sender)
            return tx.hash

    def _mine_sent(self, entry: PooledTx) -> None:
        """Execute and mine one transaction in its own block now, and journal it."""
        saved = self._clock.state
        ts = self._next_timestamp(consume=True)
        try:
            self._engine.execute(entry.tx, entry.handle, ts)
        except DevnetError:
            self._clock.restore(saved)
            raise
        self._record("tx", raw=entry.raw.hex(), ts=ts)

    def _promote(self, sender: bytes) -> None:
        """Move the sender's queued transactions whose nonce gap is filled on: mined one per
        block (auto-mining on) or appended to the pool (off). One that can no longer be
        executed (funds) is dropped, as geth drops it; the ones above it stay queued."""
        while self._pool.has_queued(sender):
            expected = (
                self._engine.next_nonce(sender)
                if self._automine
                else self.get_nonce(sender, "pending")
            )
            entry = self._pool.pop_ready(sender, expected)
            if entry is None:
                break
            try:
                if self._automine:
                    self._mine_sent(entry)
                else:
                    self._pool.check_funds(entry.tx)
                    self._pool.pending.append(entry)
            except DevnetError:
                break

    def _mine_pool(self, timestamp: int) -> None:
        """Mine one block at ``timestamp`` with the whole pool (empty pool: an empty block)."""
        pool = self._pool.take_pending()
        if not pool:
            self._engine.mine_empty(timestamp)
            self._record("mine", ts=timestamp)
            return
        included = self._engine.mine_with([p.handle for p in pool], timestamp)
        self._record("block", raws=[pool[i].raw.hex() for i in included], ts=timestamp)

    @property
    def automine(self) -> bool:
        """Whether each transaction is mined as soon as it arrives (the default)."""
        return self._automine

    def set_automine(self, enabled: bool) -> None:
        """Turn auto-mining on or off (``evm_setAutomine``). Turning it on mines whatever waits
        in the pool into one block first."""
        with self.lock:
            if enabled and self._pool.pending:
                self._mine_pool(self._next_timestamp(consume=True))
            self._automine = bool(enabled)

    def pending_transactions(self) -> list[TxRecord]:
        """The transactions waiting in the pool (auto-mining off), in arrival order."""
        with self.lock:
            return [p.tx for p in self._pool.pending]

    def pending_transaction(self, tx_hash: bytes) -> TxRecord | None:
        """A transaction waiting in the pool or queued behind a nonce gap, or None."""
        with self.lock:
            return self._pool.find(tx_hash)

    def queued_transactions(self) -> list[TxRecord]:
        """The future-nonce transactions waiting for their nonce gap to fill, by sender and
        nonce."""
        with self.lock:
            return self._pool.queued_transactions()

    def send_transaction(self, tx: dict[str, Any]) -> bytes:
        """Sign ``tx`` with the key of its funded ``from`` account, then send it."""
        sender = str(tx.get("from", "")).lower()
        key = self._keys.get(sender)
        if key is None:
            raise TransactionRejectedError("unknown account: the node holds only the funded keys")
        with self.lock:
            fields = dict(tx)
            fields.pop("from", None)
            fields.setdefault("chainId", self.chain_id)
            fields.setdefault("nonce", self.get_nonce(to_canonical_address(tx["from"]), "pending"))
            if "gasPrice" not in fields:
                fields.setdefault("maxPriorityFeePerGas", 10**9)
                fields.setdefault("maxFeePerGas", 2 * self.next_base_fee() + 10**9)
            if "gas" not in fields:
                fields["gas"] = self.estimate_gas(
                    CallParams(
                        sender=to_canonical_address(tx["from"]),
                        to=to_canonical_address(tx["to"]) if tx.get("to") else b"",
                        value=int(fields.get("value", 0)),
                        data=bytes.fromhex(str(fields.get("data", "0x"))[2:]),
                    ),
                    "latest",
                )
            try:
                signed = Account.sign_transaction(fields, key)
            except Exception as exc:
                raise InvalidParamsError(f"cannot sign transaction: {exc}") from None
            return self.send_raw_transaction(bytes(signed.raw_transaction))

    # ------------------------------------------------------------------ time and mining

    def mine(self, count: int = 1, *, timestamp: int | None = None, interval: int = 1) -> None:
        """Mine ``count`` blocks (the first at ``timestamp`` if given); the first one includes
        the transactions waiting in the pool (auto-mining off), the others are empty."""
        if count < 1 or count > 100_000:
            raise InvalidParamsError("block count must be between 1 and 100000")
        with self.lock:
            for i in range(count):
                if i == 0 and timestamp is not None:
                    self.set_next_block_timestamp(timestamp)
                elif i > 0 and interval > 1:
                    self._clock.next_timestamp = self._engine.head_timestamp() + interval
                self._mine_pool(self._next_timestamp(consume=True))

    def increase_time(self, seconds: int) -> int:
        """Move the clock of the next blocks forward; returns the total offset in seconds."""
        with self.lock:
            offset = self._clock.increase(seconds)
            self._record("time")
            return offset

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """The next block gets exactly ``timestamp``, later blocks continue from it."""
        with self.lock:
            self._clock.set_next(timestamp, self._engine.head_timestamp())
            self._record("time")

    def snapshot(self) -> int:
        """Save the current state; returns the snapshot id."""
        with self.lock:
            sid = self._snapshot_counter
            self._snapshot_counter += 1
            self._snapshots[sid] = _Snapshot(self._engine.head_hash(), self._clock.state)
            self._record("snapshot")
            return sid

    def revert(self, snapshot_id: int) -> bool:
        """Return to a snapshot (dropping it and all later ones); False if unknown."""
        with self.lock:
            snap = self._snapshots.get(snapshot_id)
            if snap is None:
                return False
            for sid in [s for s in self._snapshots if s >= snapshot_id]:
                del self._snapshots[sid]
            self._engine.revert_to(snap.block_hash)
            self._clock.restore(snap.clock)
            self._pool.clear()  # their nonces and funds belong to the abandoned chain
            self._record("revert", id=snapshot_id)
            head = self._engine.head_number()
            for listener in self._revert_listeners:
                listener(head)
            return True

    def add_revert_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(new_head_number)`` (under the chain lock) after every revert."""
        with self.lock:
            self._revert_listeners.append(listener)

    # ------------------------------------------------------------------ blocks

    def block_by_number(self, number: int) -> BlockRecord | None:
        """The canonical block ``number`` or None."""
        with self.lock:
            return self._engine.block_by_number(number)

    def block_by_hash(self, block_hash: bytes) -> BlockRecord | None:
        """The canonical block with ``block_hash`` or None."""
        with self.lock:
            return self._engine.block_by_hash(block_hash)

    def pending_block(self) -> BlockRecord:
        """The (empty) block being built, with the timestamp it would get now."""
        with self.lock:
            return self._engine.pending_block(self._next_timestamp(consume=False))

    def resolve_number(self, tag: str | int) -> int:
        """A block tag or number as a number (pending = latest + 1)."""
        if isinstance(tag, int):
            return tag
        latest = self.block_number()
        if tag in ("latest", "safe", "finalized"):
            return latest
        if tag == "earliest":
            return 0
        if tag == "pending":
            return latest + 1
        raise InvalidParamsError(f"unknown block tag {tag!r}")

    def next_base_fee(self) -> int:
        """The base fee the next block will charge."""
        with self.lock:
            return self._engine.next_base_fee()

    # ------------------------------------------------------------------ state reads

    def _state_number(self, tag: str | int) -> int:
        number = self.resolve_number(tag)
        if number > self._engine.head_number() + 1:
            raise InvalidParamsError(f"block {number} is not known yet")
        return number

    def get_balance(self, address: bytes, tag: str | int) -> int:
        """Balance in wei at ``tag``."""
        with self.lock:
            return self._engine.balance(address, self._state_number(tag))

    def get_nonce(self, address: bytes, tag: str | int) -> int:
        """Transaction count at ``tag``; ``pending`` adds the sender's transactions waiting in
        the pool (auto-mining off)."""
        with self.lock:
            nonce = self._engine.nonce(address, self._state_number(tag))
            if tag == "pending":
                nonce += self._pool.pending_count(bytes(address))
            return nonce

    def get_code(self, address: bytes, tag: str | int) -> bytes:
        """Runtime code at ``tag``."""
        with self.lock:
            return self._engine.code(address, self._state_number(tag))

    def get_storage(self, address: bytes, slot: int, tag: str | int) -> int:
        """Storage word ``slot`` at ``tag``."""
        with self.lock:
            return self._engine.storage(address, slot, self._state_number(tag))

    # ------------------------------------------------------------------ execution

    def _call_context(self, tag: str | int) -> tuple[int | None, int]:
        """Where a call at ``tag`` runs: (None, timestamp) for the next block's context (the
        latest state, as geth's eth_call), or (number, 0) for mined block ``number``'s."""
        number = self.resolve_number(tag)
        latest = self._engine.head_number()
        if tag in _NEXT_BLOCK_TAGS or number > latest:
            if tag != "pending" and number > latest + 1:
                raise InvalidParamsError(f"block {number} is not known yet")
            return None, self._next_timestamp(consume=False)
        return number, 0

    def call(self, params: CallParams, tag: str | int) -> bytes:
        """Execute without mining (base fee 0, as geth's eth_call); returns the output."""
        with self.lock:
            return self._engine.call(params, *self._call_context(tag))

    def estimate_gas(self, params: CallParams, tag: str | int) -> int:
        """The smallest gas limit with which the message succeeds."""
        with self.lock:
            return self._engine.estimate_gas(params, *self._call_context(tag))

    # ------------------------------------------------------------------ lookups

    def find_transaction(self, tx_hash: bytes) -> tuple[BlockRecord, TxRecord, int] | None:
        """(block, transaction, index) of a mined canonical transaction, or None."""
        with self.lock:
            return self._engine.find_transaction(tx_hash)

    def receipts(self, block: BlockRecord) -> tuple[ReceiptRecord, ...]:
        """The receipts of a block."""
        with self.lock:
            return self._engine.receipts(block)

    def block_logs(self, block: BlockRecord) -> list[LogEntry]:
        """All logs of a canonical block, in order."""
        with self.lock:
            return self._engine.block_logs(block)

    def get_logs(self, log_filter: LogFilter) -> list[LogEntry]:
        """Logs of canonical blocks matching ``log_filter``."""
        with self.lock:
            if log_filter.block_hash is not None:
                block = self.block_by_hash(log_filter.block_hash)
                if block is None:
                    raise InvalidParamsError("unknown block hash")
                return [e for e in self.block_logs(block) if log_filter.matches(e)]
            return list(self._engine.iter_logs(log_filter))

    def sender_of(self, tx: TxRecord) -> bytes:
        """The sender address of a transaction."""
        return tx.sender

    @staticmethod
    def contract_address(sender: bytes, nonce: int) -> str:
        """The address a CREATE from ``sender`` with ``nonce`` produces."""
        from ogpu_devnet._evm import contract_address

        return contract_address(sender, nonce)
