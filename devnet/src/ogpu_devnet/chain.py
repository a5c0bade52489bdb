"""The devnet chain: a py-evm chain (built through eth-tester's PyEVMBackend) driven like a node.

Every transaction is mined into its own block as soon as it arrives (anvil's default; with
auto-mining off, transactions wait in a pool until the next mined block; a future nonce waits
in a geth-style "queued" set until its gap fills), all execution is
serialised by one lock, and the chain is deterministic: the same funded accounts
(anvil's well-known test mnemonic) and, because account 0 deploys the protocol first on a fresh
chain, the same contract addresses on every start.

Persistence (``state_dir``) is a *journal*: every state-changing operation (raw transactions with
the timestamp of the block they were mined in, blocks mined from the pool, empty blocks, time
controls, snapshots and reverts; queued future-nonce transactions once they are mined, never
while they wait) is appended as one JSON line to ``journal.jsonl``; ``chain.json`` holds the genesis
parameters. On start the journal is replayed against a fresh genesis with the recorded block
timestamps and deterministic ``prevrandao`` values, which reproduces the chain block for block
(same hashes). Replay costs roughly the original execution time.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_utils.address import to_canonical_address, to_checksum_address
from eth_utils.crypto import keccak

# Re-exported: the errors' old home.
from ogpu_devnet.errors import DevnetError as DevnetError
from ogpu_devnet.errors import ExecutionError as ExecutionError
from ogpu_devnet.errors import ExecutionRevertedError as ExecutionRevertedError
from ogpu_devnet.errors import InvalidParamsError as InvalidParamsError
from ogpu_devnet.errors import StateDirError as StateDirError
from ogpu_devnet.errors import TransactionRejectedError as TransactionRejectedError
from ogpu_devnet.errors import decode_revert_reason as decode_revert_reason

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

_JOURNAL_VERSION = 1
MAX_TIMESTAMP = 2**63 - 1
"""Latest block timestamp the time controls accept (EIP-4803's bound)."""
_LOG_CACHE_BLOCKS = 4096
_CALL_VM_REUSE = 5000  # calls one cached call VM serves before a fresh one (bounded caches)
REPLACEMENT_PRICE_BUMP = 10
"""Percent by which a replacement must raise both fee caps (geth's and anvil's default)."""
MAX_QUEUED_PER_SENDER = 64
"""Future-nonce transactions one sender may keep queued (geth's ``--txpool.accountqueue``)."""
MAX_QUEUED_TOTAL = 1024
"""Future-nonce transactions all senders together may keep queued (geth's
``--txpool.globalqueue``)."""


def _fee_cap(tx: Any) -> int:
    """The most a transaction pays per gas (``maxFeePerGas``; ``gasPrice`` for legacy)."""
    fee = getattr(tx, "max_fee_per_gas", None)
    return int(fee if fee is not None else tx.gas_price)


def _tip_cap(tx: Any) -> int:
    """A transaction's priority fee cap (``maxPriorityFeePerGas``; ``gasPrice`` for legacy)."""
    tip = getattr(tx, "max_priority_fee_per_gas", None)
    return int(tip if tip is not None else tx.gas_price)


def _check_replacement_fees(old: Any, new: Any) -> None:
    """Refuse ``new`` as a replacement of the pooled ``old`` (same sender and nonce) unless it
    raises both the fee cap and the tip cap by at least :data:`REPLACEMENT_PRICE_BUMP` percent.

    geth's txpool rule: both caps strictly higher, and each at least ``old * 110 // 100``
    (legacy transactions use ``gasPrice`` for both caps, so the types may be mixed).
    """
    bump = 100 + REPLACEMENT_PRICE_BUMP
    for old_cap, new_cap in ((_fee_cap(old), _fee_cap(new)), (_tip_cap(old), _tip_cap(new))):
        if new_cap <= old_cap or new_cap < old_cap * bump // 100:
            raise TransactionRejectedError("replacement transaction underpriced")


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


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class CallParams:
    """A message to execute without a signature (eth_call / eth_estimateGas)."""

    sender: bytes = b"\x00" * 20
    to: bytes = b""
    gas: int | None = None
    value: int = 0
    data: bytes = b""


@dataclass(frozen=True)
class LogEntry:
    """One log with its position in the canonical chain."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    transaction_index: int
    log_index: int


@dataclass(frozen=True)
class LogFilter:
    """A log query; ``topics[i]`` is None (any), or a tuple of alternatives."""

    from_block: int
    to_block: int
    addresses: tuple[bytes, ...] = ()
    topics: tuple[tuple[bytes, ...] | None, ...] = ()
    block_hash: bytes | None = None

    def matches(self, log: LogEntry) -> bool:
        """True if ``log`` passes the address and topic conditions."""
        if self.addresses and log.address not in self.addresses:
            return False
        if len(self.topics) > len(log.topics):
            return False
        return all(
            wanted is None or log.topics[i] in wanted for i, wanted in enumerate(self.topics)
        )


@dataclass
class _Snapshot:
    block_hash: bytes
    offset: int
    next_timestamp: int | None


# --------------------------------------------------------------------------- chain


def _build_backend(chain_id: int, genesis_timestamp: int, accounts: Sequence[DevAccount]) -> Any:
    """A PyEVMBackend whose chain class carries ``chain_id`` and our genesis."""
    from eth.chains.base import MiningChain
    from eth.db import get_db_backend
    from eth.vm.forks.prague import PragueVM
    from eth_tester.backends.pyevm import main as pyevm_main

    # Keccak through pysha3 (eth-tester[py-evm] installs it on CPython) takes ~3 us a hash,
    # pycryptodome's (eth-hash's first choice when both exist) ~20 us; py-evm and the trie
    # hash hundreds of times per block. Same function, same digests; ETH_HASH_BACKEND wins.
    if not os.environ.get("ETH_HASH_BACKEND"):
        try:
            from eth_hash.auto import keccak as auto_keccak
            from eth_hash.backends import pysha3

            auto_keccak.hasher = pysha3.backend.keccak256  # type: ignore[assignment]
        except ImportError:  # PyPy or no pysha3: keep eth-hash's own choice
            pass

    class OGPUDevnetChain(MiningChain):
        """Prague from genesis, constant gas limit, the devnet's chain id."""

        vm_configuration = ((0, PragueVM),)  # type: ignore[assignment]

        def create_header_from_parent(self, parent_header: Any, **header_params: Any) -> Any:
            header_params["gas_limit"] = parent_header.gas_limit
            return super().create_header_from_parent(parent_header, **header_params)

        def get_transaction_builder(self) -> Any:
            return self.get_vm().get_transaction_builder()

    OGPUDevnetChain.chain_id = chain_id

    genesis_params = pyevm_main.get_default_genesis_params({"timestamp": genesis_timestamp})
    genesis_state = {
        to_canonical_address(acct.address): {
            "balance": DEFAULT_BALANCE_WEI,
            "storage": {},
            "code": b"",
            "nonce": 0,
        }
        for acct in accounts
    }

    class _Backend(pyevm_main.PyEVMBackend):  # type: ignore[misc]
        def reset_to_genesis(self, *args: Any, **kwargs: Any) -> None:
            from eth_keys.datatypes import PrivateKey

            self.account_keys = tuple(
                PrivateKey(bytes.fromhex(a.private_key[2:])) for a in accounts
            )
            self.chain = OGPUDevnetChain.from_genesis(
                get_db_backend(),
                genesis_params,
                genesis_state,  # type: ignore[arg-type]
            )

    return _Backend()


class DevnetChain:
    """One py-evm chain, auto-mining, with anvil-style time controls and snapshots.

    All public methods are thread safe (one re-entrant lock serialises them).
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
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 < chain_id < 2**64:
            raise InvalidParamsError("chain_id must be a positive integer below 2**64")
        self.lock = threading.RLock()
        self.chain_id = chain_id
        self.accounts = list(accounts) if accounts is not None else default_accounts()
        self._keys = {a.address.lower(): a.private_key for a in self.accounts}
        self._offset = 0
        self._next_timestamp: int | None = None
        self._snapshots: dict[int, _Snapshot] = {}
        self._snapshot_counter = 0
        self._tx_index: dict[bytes, bytes] = {}  # tx hash -> block hash
        self._log_cache: dict[bytes, list[LogEntry]] = {}
        self._journal: Any = None
        self._revert_listeners: list[Callable[[int], None]] = []
        self._replaying = False
        self._automine = True
        self._pool: list[tuple[bytes, Any]] = []  # (raw, decoded) waiting while automine is off
        # Future-nonce transactions (geth's txpool "queued"): sender -> nonce -> (raw, decoded).
        # Never journaled: only what they become once mined is (see send_raw_transaction).
        self._queued: dict[bytes, dict[int, tuple[bytes, Any]]] = {}
        self._call_vm_cache: tuple[Any, Any, int] | None = None  # (header, VM, uses)
        self._call_header_cache: tuple[tuple[Any, ...], Any] | None = None
        self._read_state_cache: tuple[bytes, Any] | None = None  # (state root, state)
        self.meta: dict[str, Any] = {}
        self.restored = False

        state_path = Path(state_dir) if state_dir is not None else None
        meta_file = state_path / "chain.json" if state_path else None
        if meta_file is not None and meta_file.exists():
            self.meta = self._load_meta(meta_file, params or {})
            genesis_timestamp = int(self.meta["genesis_timestamp"])
            self.restored = True
        else:
            genesis_timestamp = int(time.time())
            self.meta = {
                "version": _JOURNAL_VERSION,
                "chain_id": chain_id,
                "genesis_timestamp": genesis_timestamp,
                "accounts": [a.address for a in self.accounts],
                "params": dict(params or {}),
            }
        self._backend = _build_backend(chain_id, genesis_timestamp, self.accounts)
        self._meta_file = meta_file
        if state_path is not None:
            state_path.mkdir(parents=True, exist_ok=True)
            journal_file = state_path / "journal.jsonl"
            if self.restored:
                self._replay(journal_file)
            else:
                self.save_meta()
                journal_file.write_text("")
            self._journal = journal_file.open("a", encoding="utf-8")

    # ------------------------------------------------------------------ persistence

    def _load_meta(self, meta_file: Path, params: dict[str, Any]) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateDirError(f"cannot read {meta_file}: {exc}") from None
        if meta.get("version") != _JOURNAL_VERSION:
            raise StateDirError(f"{meta_file} has an unknown format version")
        if meta.get("chain_id") != self.chain_id:
            raise StateDirError(
                f"the state directory holds chain id {meta.get('chain_id')}, not {self.chain_id}; "
                "use the same --chain-id or another --state-dir"
            )
        stored = meta.get("params", {})
        for key, value in params.items():
            if key in stored and stored[key] != value:
                raise StateDirError(
                    f"the state directory was created with {key}={stored[key]}, not {value}; "
                    "use the same setting or another --state-dir"
                )
        if meta.get("accounts") != [a.address for a in self.accounts]:
            raise StateDirError("the state directory was created with other funded accounts")
        return meta

    def save_meta(self, **updates: Any) -> None:
        """Merge ``updates`` into the stored genesis metadata (no-op without a state dir)."""
        with self.lock:
            self.meta.update(updates)
            if self._meta_file is not None:
                tmp = self._meta_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(self.meta, indent=2, sort_keys=True), encoding="utf-8")
                os.replace(tmp, self._meta_file)

    def _record(self, op: str, **fields: Any) -> None:
        if self._journal is None or self._replaying:
            return
        entry = {"op": op, **fields, "offset": self._offset, "next_ts": self._next_timestamp}
        self._journal.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._journal.flush()

    def _replay(self, journal_file: Path) -> None:
        if not journal_file.exists():
            return
        data = journal_file.read_bytes()
        if data and not data.endswith(b"\n"):
            # A write cut short (the process was killed mid-line): that request was never
            # answered, so drop the partial line before appending after it.
            cut = data.rfind(b"\n") + 1
            with journal_file.open("r+b") as raw:
                raw.truncate(cut)
        self._replaying = True
        try:
            with journal_file.open(encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                        self._replay_entry(entry)
                    except (ValueError, KeyError, TypeError, DevnetError) as exc:
                        raise StateDirError(
                            f"{journal_file}:{lineno}: cannot replay journal entry: {exc}"
                        ) from None
        finally:
            self._replaying = False

    def _replay_entry(self, entry: dict[str, Any]) -> None:
        op = entry["op"]
        if op == "tx":
            self._apply_raw(bytes.fromhex(entry["raw"]), int(entry["ts"]))
        elif op == "mine":
            self._mine_empty(int(entry["ts"]))
        elif op == "block":
            raws = [bytes.fromhex(raw) for raw in entry["raws"]]
            self._mine_with([(raw, self._decode_raw(raw)) for raw in raws], int(entry["ts"]))
        elif op == "snapshot":
            self.snapshot()
        elif op == "revert":
            self.revert(int(entry["id"]))
        elif op != "time":
            raise StateDirError(f"unknown journal operation {op!r}")
        self._offset = int(entry["offset"])
        nts = entry["next_ts"]
        self._next_timestamp = None if nts is None else int(nts)

    def close(self) -> None:
        """Close the journal file."""
        with self.lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None

    # ------------------------------------------------------------------ internals

    @property
    def _chain(self) -> Any:
        return self._backend.chain

    def head(self) -> Any:
        """The header of the latest mined block."""
        with self.lock:
            return self._chain.get_canonical_head()

    def block_number(self) -> int:
        """The latest mined block number."""
        return int(self.head().block_number)

    def _timestamp_for_next_block(self, *, consume: bool) -> int:
        parent_ts = int(self.head().timestamp)
        now = int(time.time())
        if self._next_timestamp is not None:
            ts = max(self._next_timestamp, parent_ts + 1)
            if consume:
                self._next_timestamp = None
                self._offset = ts - now
            return ts
        ts = max(parent_ts + 1, now + self._offset)
        if consume:
            # The clock never lags the chain: when blocks come faster than one per second,
            # later time travel starts from the latest block, not from the wall clock.
            self._offset = ts - now
        return ts

    @staticmethod
    def _mix_hash(number: int) -> bytes:
        return keccak(b"ogpu-devnet/prevrandao/" + number.to_bytes(8, "big"))

    def _mine_pending(self) -> Any:
        number = int(self._chain.header.block_number)
        block = self._chain.mine_block(mix_hash=self._mix_hash(number))
        for tx in block.transactions:
            self._tx_index[tx.hash] = block.hash
        return block

    def _decode_raw(self, raw: bytes) -> Any:
        """Decode a signed transaction and check what needs no state (type, chain id, signature)."""
        try:
            if raw[:1] == b"\x03":
                raise TransactionRejectedError("blob transactions are not supported")
            builder = self._chain.get_vm().get_transaction_builder()
            tx = builder.decode(raw)
        except DevnetError:
            raise
        except Exception as exc:
            raise InvalidParamsError(f"invalid raw transaction: {exc}") from None
        tx_chain_id = getattr(tx, "chain_id", None)
        if tx_chain_id is not None and tx_chain_id != self.chain_id:
            raise TransactionRejectedError(
                f"invalid chain id {tx_chain_id} for transaction (this chain is {self.chain_id})"
            )
        try:
            tx.sender  # noqa: B018 - recovers (and so checks) the signature
        except Exception:
            raise InvalidParamsError("invalid transaction signature") from None
        return tx

    def _apply_raw(self, raw: bytes, timestamp: int, tx: Any = None) -> bytes:
        from eth_utils.exceptions import ValidationError as EVMValidationError

        if tx is None:
            tx = self._decode_raw(raw)
        expected = self._state_nonce(bytes(tx.sender))
        if tx.nonce != expected:
            kind = "low" if tx.nonce < expected else "high"
            raise TransactionRejectedError(
                f"nonce too {kind}: next nonce {expected}, tx nonce {tx.nonce}"
            )
        self._chain.header = self._chain.header.copy(timestamp=timestamp)
        try:
            self._mine_one(tx)
        except EVMValidationError as exc:
            raise TransactionRejectedError(_rejection_message(str(exc))) from None
        except Exception as exc:
            raise TransactionRejectedError(f"transaction rejected: {exc}") from None
        return bytes(tx.hash)

    def _mine_one(self, tx: Any) -> Any:
        """Execute ``tx`` and mine it into its own block on the pending header.

        The same block as ``apply_transaction`` + ``mine_block`` (same hashes), in about two
        thirds of the time: one VM instead of three, and the state trie hashed once (at the
        block's end) instead of twice. Nothing is persisted if execution raises.
        """
        chain = self._chain
        base = chain.header
        vm = chain.get_vm(base)
        header, receipts, _ = vm.apply_all_transactions((tx,), base)
        block = vm.set_block_transactions_and_withdrawals(vm.get_block(), header, (tx,), receipts)
        block = vm.mine_block(block, mix_hash=self._mix_hash(int(base.block_number))).block
        chain.validate_block(block)
        chain.chaindb.persist_block(block)
        chain.header = chain.create_header_from_parent(block.header)
        self._tx_index[tx.hash] = block.hash
        return block

    def _mine_with(self, txs: Sequence[tuple[bytes, Any]], timestamp: int) -> list[bytes]:
        """Mine one block at ``timestamp`` holding ``txs`` in order; a transaction that can no
        longer be included (nonce, funds) is dropped. Returns the raw transactions included."""
        self._chain.header = self._chain.header.copy(timestamp=timestamp)
        included: list[bytes] = []
        for raw, tx in txs:
            try:
                self._chain.apply_transaction(tx)
            except Exception:  # invalid at inclusion time: dropped, as a node's pool would
                continue
            included.append(raw)
        self._mine_pending()
        return included

    def _mine_empty(self, timestamp: int) -> Any:
        self._chain.header = self._chain.header.copy(timestamp=timestamp)
        return self._mine_pending()

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
            if not self._automine:
                return self._add_to_pool(raw)
            tx = self._decode_raw(raw)
            sender = bytes(tx.sender)
            queued = self._queued.get(sender, {})
            if int(tx.nonce) in queued or int(tx.nonce) > self._state_nonce(sender):
                return self._queue(raw, tx)
            tx_hash = self._mine_sent(raw, tx)
            self._promote(sender)
            return tx_hash

    def _state_nonce(self, sender: bytes) -> int:
        return int(self._pending_state().get_nonce(sender))

    def _pending_state(self) -> Any:
        """The state the next transaction runs on, for reads only (nonce, balance checks).

        One state per state root, reused: building a VM and its state costs as much as the
        read, and the checks before a transaction read the same root two or three times.
        """
        root = bytes(self._chain.header.state_root)
        cached = self._read_state_cache
        if cached is None or cached[0] != root:
            cached = (root, self._chain.get_vm().state)
            self._read_state_cache = cached
        return cached[1]

    def _mine_sent(self, raw: bytes, tx: Any) -> bytes:
        """Execute and mine one transaction in its own block now, and journal it."""
        saved = (self._offset, self._next_timestamp)
        ts = self._timestamp_for_next_block(consume=True)
        try:
            tx_hash = self._apply_raw(raw, ts, tx)
        except DevnetError:
            self._offset, self._next_timestamp = saved
            raise
        self._record("tx", raw=raw.hex(), ts=ts)
        return tx_hash

    def _check_funds(self, tx: Any) -> None:
        cost = int(tx.gas) * _fee_cap(tx)
        if cost + int(tx.value) > int(self._pending_state().get_balance(tx.sender)):
            raise TransactionRejectedError("insufficient funds for gas * price + value")

    def _queue(self, raw: bytes, tx: Any) -> bytes:
        """Keep a future-nonce transaction (or replace a queued one at its nonce)."""
        sender, nonce = bytes(tx.sender), int(tx.nonce)
        queued = self._queued.get(sender, {})
        old = queued.get(nonce)
        if old is not None:
            if bytes(old[1].hash) == bytes(tx.hash):
                raise TransactionRejectedError("already known")
            _check_replacement_fees(old[1], tx)
        elif len(queued) >= MAX_QUEUED_PER_SENDER:
            raise TransactionRejectedError(
                f"txpool is full: {MAX_QUEUED_PER_SENDER} future-nonce transactions already "
                f"queued for {to_checksum_address(sender)} (fill the nonce gap first)"
            )
        elif sum(len(q) for q in self._queued.values()) >= MAX_QUEUED_TOTAL:
            raise TransactionRejectedError(
                f"txpool is full: {MAX_QUEUED_TOTAL} future-nonce transactions already queued"
            )
        self._check_funds(tx)
        self._queued.setdefault(sender, {})[nonce] = (raw, tx)
        return bytes(tx.hash)

    def _promote(self, sender: bytes) -> None:
        """Move the sender's queued transactions whose nonce gap is filled on: mined one per
        block (auto-mining on) or appended to the pool (off). One that can no longer be
        executed (funds) is dropped, as geth drops it; the ones above it stay queued."""
        queued = self._queued.get(sender)
        while queued:
            expected = (
                self._state_nonce(sender) if self._automine else self.get_nonce(sender, "pending")
            )
            for stale in [n for n in queued if n < expected]:
                del queued[stale]
            entry = queued.pop(expected, None)
            if entry is None:
                break
            raw, tx = entry
            try:
                if self._automine:
                    self._mine_sent(raw, tx)
                else:
                    self._check_funds(tx)
                    self._pool.append((raw, tx))
            except DevnetError:
                break
        if not queued:
            self._queued.pop(sender, None)

    def _add_to_pool(self, raw: bytes) -> bytes:
        tx = self._decode_raw(raw)
        if any(bytes(pooled.hash) == bytes(tx.hash) for _, pooled in self._pool):
            raise TransactionRejectedError("already known")
        sender = bytes(tx.sender)
        slot = next(
            (
                i
                for i, (_, pooled) in enumerate(self._pool)
                if bytes(pooled.sender) == sender and int(pooled.nonce) == int(tx.nonce)
            ),
            None,
        )
        if slot is None:
            expected = self.get_nonce(sender, "pending")
            if int(tx.nonce) > expected or int(tx.nonce) in self._queued.get(sender, {}):
                return self._queue(raw, tx)
            if tx.nonce < expected:
                raise TransactionRejectedError(
                    f"nonce too low: next pending nonce {expected}, tx nonce {tx.nonce}"
                )
        else:
            _check_replacement_fees(self._pool[slot][1], tx)
        self._check_funds(tx)
        if slot is None:
            self._pool.append((raw, tx))
            self._promote(sender)
        else:  # the replacement takes the pooled transaction's place (and nonce)
            self._pool[slot] = (raw, tx)
        return bytes(tx.hash)

    def _mine_pool(self, timestamp: int) -> None:
        """Mine one block at ``timestamp`` with the whole pool (empty pool: an empty block)."""
        pool, self._pool = self._pool, []
        if not pool:
            self._mine_empty(timestamp)
            self._record("mine", ts=timestamp)
            return
        included = self._mine_with(pool, timestamp)
        self._record("block", raws=[raw.hex() for raw in included], ts=timestamp)

    @property
    def automine(self) -> bool:
        """Whether each transaction is mined as soon as it arrives (the default)."""
        return self._automine

    def set_automine(self, enabled: bool) -> None:
        """Turn auto-mining on or off (``evm_setAutomine``). Turning it on mines whatever waits
        in the pool into one block first."""
        with self.lock:
            if enabled and self._pool:
                self._mine_pool(self._timestamp_for_next_block(consume=True))
            self._automine = bool(enabled)

    def pending_transactions(self) -> list[Any]:
        """The transactions waiting in the pool (auto-mining off), in arrival order."""
        with self.lock:
            return [tx for _, tx in self._pool]

    def pending_transaction(self, tx_hash: bytes) -> Any | None:
        """A transaction waiting in the pool or queued behind a nonce gap, or None."""
        with self.lock:
            for _, tx in self._pool:
                if bytes(tx.hash) == tx_hash:
                    return tx
            for queued in self._queued.values():
                for _, tx in queued.values():
                    if bytes(tx.hash) == tx_hash:
                        return tx
            return None

    def queued_transactions(self) -> list[Any]:
        """The future-nonce transactions waiting for their nonce gap to fill, by sender and
        nonce."""
        with self.lock:
            return [q[n][1] for q in self._queued.values() for n in sorted(q)]

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
                    self._next_timestamp = int(self.head().timestamp) + interval
                self._mine_pool(self._timestamp_for_next_block(consume=True))

    def increase_time(self, seconds: int) -> int:
        """Move the clock of the next blocks forward; returns the total offset in seconds."""
        if seconds < 0:
            raise InvalidParamsError("evm_increaseTime needs a non-negative number of seconds")
        with self.lock:
            base = max(int(time.time()) + self._offset, self._next_timestamp or 0)
            if base + seconds > MAX_TIMESTAMP:
                raise InvalidParamsError(f"block timestamps cannot exceed {MAX_TIMESTAMP}")
            if self._next_timestamp is not None:
                self._next_timestamp += seconds
            self._offset += seconds
            self._record("time")
            return self._offset

    def set_next_block_timestamp(self, timestamp: int) -> None:
        """The next block gets exactly ``timestamp``, later blocks continue from it."""
        if timestamp > MAX_TIMESTAMP:
            raise InvalidParamsError(f"block timestamps cannot exceed {MAX_TIMESTAMP}")
        with self.lock:
            latest = int(self.head().timestamp)
            if timestamp <= latest:
                raise InvalidParamsError(
                    f"timestamp {timestamp} must be greater than the latest block's ({latest})"
                )
            self._next_timestamp = timestamp
            self._record("time")

    def snapshot(self) -> int:
        """Save the current state; returns the snapshot id."""
        with self.lock:
            sid = self._snapshot_counter
            self._snapshot_counter += 1
            self._snapshots[sid] = _Snapshot(
                bytes(self.head().hash), self._offset, self._next_timestamp
            )
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
            if snap.block_hash != bytes(self.head().hash):
                self._backend.revert_to_snapshot(snap.block_hash)
            self._offset = snap.offset
            self._next_timestamp = snap.next_timestamp
            self._pool = []  # their nonces and funds belong to the abandoned chain
            self._queued = {}
            self._record("revert", id=snapshot_id)
            head = self.block_number()
            for listener in self._revert_listeners:
                listener(head)
            return True

    def add_revert_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(new_head_number)`` (under the chain lock) after every revert."""
        with self.lock:
            self._revert_listeners.append(listener)

    # ------------------------------------------------------------------ blocks

    def block_by_number(self, number: int) -> Any | None:
        """The canonical block ``number`` or None."""
        with self.lock:
            if number < 0 or number > self.block_number():
                return None
            return self._chain.get_canonical_block_by_number(number)

    def block_by_hash(self, block_hash: bytes) -> Any | None:
        """The canonical block with ``block_hash`` or None."""
        with self.lock:
            try:
                block = self._chain.get_block_by_hash(block_hash)
            except Exception:
                return None
            if not self._is_canonical(block.header):
                return None
            return block

    def _is_canonical(self, header: Any) -> bool:
        number = int(header.block_number)
        if number > self.block_number():
            return False
        return bool(self._chain.get_canonical_block_hash(number) == header.hash)

    def pending_block(self) -> Any:
        """The (empty) block being built, with the timestamp it would get now."""
        with self.lock:
            block = self._chain.get_block()
            ts = self._timestamp_for_next_block(consume=False)
            return block.copy(header=block.header.copy(timestamp=ts))

    def resolve_number(self, tag: str | int) -> int:
        """A block tag or number as a number (pending = latest + 1)."""
        latest = self.block_number()
        if isinstance(tag, int):
            return tag
        if tag in ("latest", "safe", "finalized"):
            return latest
        if tag == "earliest":
            return 0
        if tag == "pending":
            return latest + 1
        raise InvalidParamsError(f"unknown block tag {tag!r}")

    def _execution_header(self, tag: str | int) -> Any:
        """The header whose state and context a call at ``tag`` runs in."""
        number = self.resolve_number(tag)
        latest = self.block_number()
        if number > latest:
            if tag != "pending" and number > latest + 1:
                raise InvalidParamsError(f"block {number} is not known yet")
            return self.pending_block().header
        if tag in ("latest", "safe", "finalized"):
            return self.pending_block().header
        return self._chain.get_canonical_block_header_by_number(number)

    def next_base_fee(self) -> int:
        """The base fee the next block will charge."""
        with self.lock:
            return int(self._chain.header.base_fee_per_gas)

    # ------------------------------------------------------------------ state reads

    def _state(self, tag: str | int) -> Any:
        number = self.resolve_number(tag)
        if number > self.block_number() + 1:
            raise InvalidParamsError(f"block {number} is not known yet")
        if number >= self.block_number():
            header = self.head()
        else:
            header = self._chain.get_canonical_block_header_by_number(number)
        return self._chain.get_vm(header).state

    def get_balance(self, address: bytes, tag: str | int) -> int:
        """Balance in wei at ``tag``."""
        with self.lock:
            return int(self._state(tag).get_balance(address))

    def get_nonce(self, address: bytes, tag: str | int) -> int:
        """Transaction count at ``tag``; ``pending`` adds the sender's transactions waiting in
        the pool (auto-mining off)."""
        with self.lock:
            nonce = int(self._state(tag).get_nonce(address))
            if tag == "pending":
                nonce += sum(1 for _, tx in self._pool if bytes(tx.sender) == bytes(address))
            return nonce

    def get_code(self, address: bytes, tag: str | int) -> bytes:
        """Runtime code at ``tag``."""
        with self.lock:
            return bytes(self._state(tag).get_code(address))

    def get_storage(self, address: bytes, slot: int, tag: str | int) -> int:
        """Storage word ``slot`` at ``tag``."""
        with self.lock:
            return int(self._state(tag).get_storage(address, slot))

    # ------------------------------------------------------------------ execution

    def _spoof(self, params: CallParams, header: Any, gas: int) -> Any:
        from eth.vm.spoof import SpoofTransaction

        vm = self._call_vm(header)
        nonce = vm.state.get_nonce(params.sender)
        unsigned = vm.get_transaction_builder().new_unsigned_dynamic_fee_transaction(
            chain_id=self.chain_id,
            nonce=nonce,
            max_priority_fee_per_gas=0,
            max_fee_per_gas=0,
            gas=gas,
            to=params.to,
            value=params.value,
            data=params.data,
            access_list=(),
        )
        return vm, SpoofTransaction(unsigned, from_=params.sender)

    def _call_vm(self, header: Any) -> Any:
        """A VM for calls in ``header``'s context, reused while the header is the same object
        (see :meth:`_call_header`).

        Calls only ever run between ``snapshot`` and ``revert`` and never persist, so the
        VM's state stays the header's state; reusing it keeps its account, code and trie-node
        caches warm for the next call of a batch (one snapshot of many entities).
        """
        cached = self._call_vm_cache
        if cached is None or cached[0] is not header or cached[2] >= _CALL_VM_REUSE:
            cached = (header, self._chain.get_vm(header), 0)
        self._call_vm_cache = (cached[0], cached[1], cached[2] + 1)
        return cached[1]

    def _call_header(self, tag: str | int) -> Any:
        """The header calls at ``tag`` run in (base fee 0, as geth's eth_call).

        The same header object is returned while what it stands for is unchanged (for the
        latest/pending state: the chain's head and the next block's timestamp; for a mined
        block: its canonical hash), so that :meth:`_call_vm` can reuse its VM across a batch
        of calls pinned to one block. A new block, a revert or a time step gives a new header.
        """
        number = self.resolve_number(tag)
        key: tuple[Any, ...]
        if tag in ("latest", "pending", "safe", "finalized") or number > self.block_number():
            key = ("next", bytes(self._chain.header.parent_hash), self._timestamp_for_next_block(consume=False))  # fmt: skip
        else:
            key = ("mined", number, bytes(self._chain.chaindb.get_canonical_block_hash(number)))
        cached = self._call_header_cache
        if cached is None or cached[0] != key:
            cached = (key, self._execution_header(tag).copy(base_fee_per_gas=0))
            self._call_header_cache = cached
        return cached[1]

    def _run(self, params: CallParams, header: Any, gas: int) -> Any:
        from eth_utils.exceptions import ValidationError as EVMValidationError

        vm, tx = self._spoof(params, header, gas)
        state = vm.state
        snapshot = state.snapshot()
        try:
            return state.apply_transaction(tx)
        except EVMValidationError as exc:
            raise TransactionRejectedError(_rejection_message(str(exc))) from None
        finally:
            state.revert(snapshot)

    def call(self, params: CallParams, tag: str | int) -> bytes:
        """Execute without mining (base fee 0, as geth's eth_call); returns the output."""
        from eth.exceptions import Revert

        with self.lock:
            header = self._call_header(tag)
            gas = params.gas if params.gas is not None else int(header.gas_limit)
            computation = self._run(params, header, gas)
            if computation.is_error:
                if isinstance(computation.error, Revert):
                    raise ExecutionRevertedError(bytes(computation.output))
                raise ExecutionError(_vm_error_message(computation.error))
            return bytes(computation.output)

    def estimate_gas(self, params: CallParams, tag: str | int) -> int:
        """The smallest gas limit with which the message succeeds."""
        from eth.exceptions import Revert
        from eth.vm.spoof import SpoofTransaction

        with self.lock:
            header = self._call_header(tag)
            cap = params.gas if params.gas is not None else int(header.gas_limit)
            computation = self._run(params, header, cap)
            if computation.is_error:
                if isinstance(computation.error, Revert):
                    raise ExecutionRevertedError(bytes(computation.output))
                if cap == int(header.gas_limit):
                    raise ExecutionError(_vm_error_message(computation.error))
                raise ExecutionError(f"gas required exceeds allowance ({cap})")
            vm, tx = self._spoof(params, header, cap)
            state = vm.state

            def succeeds(gas: int) -> bool:
                snap = state.snapshot()
                try:
                    return not state.apply_transaction(SpoofTransaction(tx, gas=gas)).is_error
                except Exception:
                    return False
                finally:
                    state.revert(snap)

            # Gas consumed before refunds is a lower bound; geth-style search with 1.5% slack.
            low = int(tx.intrinsic_gas) + int(computation.get_gas_used()) - 1
            high = cap
            if succeeds(low + 1):  # the common case: no 63/64 reservation, no refund slack
                return low + 1
            low += 1
            probe = min(cap, (low + 1) * 64 // 63 + 3000)
            if low < probe < high:
                if succeeds(probe):
                    high = probe
                else:
                    low = probe
            while high - low > 1 and (high - low) * 1000 > 15 * high:
                mid = (low + high) // 2
                if succeeds(mid):
                    high = mid
                else:
                    low = mid
            return high

    # ------------------------------------------------------------------ lookups

    def find_transaction(self, tx_hash: bytes) -> tuple[Any, Any, int] | None:
        """(block, transaction, index) of a mined canonical transaction, or None."""
        with self.lock:
            block_hash = self._tx_index.get(tx_hash)
            if block_hash is None:
                return None
            block = self.block_by_hash(block_hash)
            if block is None:
                return None
            for index, tx in enumerate(block.transactions):
                if tx.hash == tx_hash:
                    return block, tx, index
            return None

    def receipts(self, block: Any) -> tuple[Any, ...]:
        """The receipts of a block."""
        with self.lock:
            return tuple(block.get_receipts(self._chain.chaindb))

    def block_logs(self, block: Any) -> list[LogEntry]:
        """All logs of a canonical block, in order."""
        with self.lock:
            cached = self._log_cache.get(block.hash)
            if cached is not None:
                return cached
            entries: list[LogEntry] = []
            for tx_index, (tx, receipt) in enumerate(
                zip(block.transactions, self.receipts(block), strict=True)
            ):
                for log in receipt.logs:
                    entries.append(
                        LogEntry(
                            address=bytes(log.address),
                            topics=tuple(t.to_bytes(32, "big") for t in log.topics),
                            data=bytes(log.data),
                            block_number=int(block.number),
                            block_hash=bytes(block.hash),
                            transaction_hash=bytes(tx.hash),
                            transaction_index=tx_index,
                            log_index=len(entries),
                        )
                    )
            if len(self._log_cache) >= _LOG_CACHE_BLOCKS:
                self._log_cache.pop(next(iter(self._log_cache)))
            self._log_cache[block.hash] = entries
            return entries

    def get_logs(self, log_filter: LogFilter) -> list[LogEntry]:
        """Logs of canonical blocks matching ``log_filter``."""
        with self.lock:
            if log_filter.block_hash is not None:
                block = self.block_by_hash(log_filter.block_hash)
                if block is None:
                    raise InvalidParamsError("unknown block hash")
                return [e for e in self.block_logs(block) if log_filter.matches(e)]
            return list(self._iter_logs(log_filter))

    def _iter_logs(self, log_filter: LogFilter) -> Iterator[LogEntry]:
        last = min(log_filter.to_block, self.block_number())
        for number in range(max(0, log_filter.from_block), last + 1):
            block = self._chain.get_canonical_block_by_number(number)
            if not block.transactions:
                continue
            for entry in self.block_logs(block):
                if log_filter.matches(entry):
                    yield entry

    def sender_of(self, tx: Any) -> bytes:
        """The sender address of a transaction."""
        return bytes(tx.sender)

    @staticmethod
    def contract_address(sender: bytes, nonce: int) -> str:
        """The address a CREATE from ``sender`` with ``nonce`` produces."""
        import rlp  # type: ignore[import-untyped]

        return to_checksum_address(keccak(rlp.encode([sender, nonce]))[12:])


def _rejection_message(message: str) -> str:
    lowered = message.lower()
    if "nonce" in lowered:
        return f"nonce too low or too high: {message}"
    if "balance" in lowered or "afford" in lowered:
        return f"insufficient funds for gas * price + value: {message}"
    if "base fee" in lowered:
        return f"max fee per gas less than block base fee: {message}"
    if "gas limit" in lowered:
        return f"exceeds block gas limit: {message}"
    return message


def _vm_error_message(error: Any) -> str:
    name = type(error).__name__
    return {
        "OutOfGas": "out of gas",
        "InsufficientStack": "stack underflow",
        "FullStack": "stack limit reached",
        "InvalidInstruction": "invalid opcode",
        "InvalidJumpDestination": "invalid jump destination",
        "WriteProtection": "write protection",
        "InsufficientFunds": "insufficient balance for transfer",
    }.get(name, f"execution failed: {name}")
