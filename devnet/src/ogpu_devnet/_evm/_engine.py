"""The engine: executes, mines, calls and reads the py-evm chain, answering in records.

Every py-evm object stays in here; what leaves is a :mod:`ogpu_devnet._records` value, bytes or
an int. A decoded transaction leaves with its record as an opaque *handle* (the py-evm object,
so that it is not decoded and its signature not recovered twice); only the engine looks inside.
The engine has no lock, clock or pool of its own: :class:`~ogpu_devnet.chain.DevnetChain`
serialises calls and says at which timestamp each block is mined.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import rlp  # type: ignore[import-untyped]
from eth.vm.spoof import SpoofTransaction
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EVMValidationError

from ogpu_devnet._evm._backend import FundedAccount, build_backend
from ogpu_devnet._evm._errors import failed_call, rejected
from ogpu_devnet._evm._serializers import (
    block_record,
    header_record,
    log_entries,
    receipt_records,
    tx_record,
)
from ogpu_devnet._records import (
    BlockRecord,
    CallParams,
    HeaderRecord,
    LogEntry,
    LogFilter,
    ReceiptRecord,
    TxRecord,
)
from ogpu_devnet.errors import (
    DevnetError,
    ExecutionError,
    InvalidParamsError,
    TransactionRejectedError,
)

_CACHE_BLOCKS = 4096  # blocks whose records, receipts and logs stay cached (by hash)
_CALL_VM_REUSE = 5000  # calls one cached call VM serves before a fresh one (bounded caches)

Handle = Any
"""A decoded transaction as the engine keeps it (opaque outside the engine)."""


def contract_address(sender: bytes, nonce: int) -> str:
    """The address a CREATE from ``sender`` with ``nonce`` produces."""
    return to_checksum_address(keccak(rlp.encode([sender, nonce]))[12:])


def _mix_hash(number: int) -> bytes:
    # Deterministic prevrandao per block number: a replayed journal gives the same hashes.
    return keccak(b"ogpu-devnet/prevrandao/" + number.to_bytes(8, "big"))


class _ReceiptRoot:
    """What py-evm's ``chaindb.get_receipts`` reads of a header."""

    __slots__ = ("receipt_root",)

    def __init__(self, receipt_root: bytes) -> None:
        self.receipt_root = receipt_root


def _bounded_put(cache: dict[bytes, Any], key: bytes, value: Any) -> None:
    if len(cache) >= _CACHE_BLOCKS:
        cache.pop(next(iter(cache)))
    cache[key] = value


class Engine:
    """One py-evm chain (a fresh genesis) and what runs on it. Not thread safe."""

    def __init__(
        self,
        chain_id: int,
        genesis_timestamp: int,
        accounts: Sequence[FundedAccount],
        balance: int,
    ) -> None:
        self.chain_id = chain_id
        self._backend = build_backend(chain_id, genesis_timestamp, accounts, balance)
        self._chain: Any = self._backend.chain  # the backend swaps it only in a revert
        self._tx_index: dict[bytes, bytes] = {}  # tx hash -> block hash
        self._blocks: dict[bytes, BlockRecord] = {}
        self._receipts: dict[bytes, tuple[tuple[ReceiptRecord, ...], list[LogEntry]]] = {}
        self._call_vm_cache: tuple[Any, Any, int] | None = None  # (header, VM, uses)
        self._call_header_cache: tuple[tuple[Any, ...], Any] | None = None
        self._read_state_cache: tuple[bytes, Any] | None = None  # (state root, state)

    # ------------------------------------------------------------------ head

    def head_number(self) -> int:
        """The latest mined block number."""
        return int(self._chain.get_canonical_head().block_number)

    def head_timestamp(self) -> int:
        """The latest mined block's timestamp."""
        return int(self._chain.get_canonical_head().timestamp)

    def head_hash(self) -> bytes:
        """The latest mined block's hash."""
        return bytes(self._chain.get_canonical_head().hash)

    def head(self) -> HeaderRecord:
        """The latest mined block's header."""
        return header_record(self._chain.get_canonical_head())

    def next_base_fee(self) -> int:
        """The base fee the next block will charge."""
        return int(self._chain.header.base_fee_per_gas)

    # ------------------------------------------------------------------ transactions

    def decode(self, raw: bytes) -> tuple[TxRecord, Handle]:
        """Decode a signed transaction and check what needs no state (type, chain id,
        signature): its record and the handle to execute it by."""
        try:
            if raw[:1] == b"\x03":
                raise TransactionRejectedError("blob transactions are not supported")
            tx = self._chain.get_vm().get_transaction_builder().decode(raw)
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
        return tx_record(tx), tx

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

    def next_nonce(self, sender: bytes) -> int:
        """The nonce the sender's next transaction must carry (mined state)."""
        return int(self._pending_state().get_nonce(sender))

    def next_balance(self, sender: bytes) -> int:
        """The sender's balance for the next transaction (mined state)."""
        return int(self._pending_state().get_balance(sender))

    def execute(self, tx: TxRecord, handle: Handle, timestamp: int) -> None:
        """Execute one transaction and mine it into its own block at ``timestamp``.

        A transaction that reverts is mined (status 0); one that cannot be executed (nonce,
        funds, fees, gas limit) raises :class:`TransactionRejectedError` and changes nothing.
        """
        expected = self.next_nonce(tx.sender)
        if tx.nonce != expected:
            kind = "low" if tx.nonce < expected else "high"
            raise TransactionRejectedError(
                f"nonce too {kind}: next nonce {expected}, tx nonce {tx.nonce}"
            )
        chain = self._chain
        chain.header = chain.header.copy(timestamp=timestamp)
        try:
            block = self._mine_one(handle)
        except EVMValidationError as exc:
            raise rejected(exc) from None
        except Exception as exc:
            raise TransactionRejectedError(f"transaction rejected: {exc}") from None
        self._tx_index[tx.hash] = block.hash

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
        block = vm.mine_block(block, mix_hash=_mix_hash(int(base.block_number))).block
        chain.validate_block(block)
        chain.chaindb.persist_block(block)
        chain.header = chain.create_header_from_parent(block.header)
        return block

    def mine_with(self, handles: Sequence[Handle], timestamp: int) -> list[int]:
        """Mine one block at ``timestamp`` holding the transactions in order; one that can no
        longer be included (nonce, funds) is dropped. Returns the indices included."""
        self._chain.header = self._chain.header.copy(timestamp=timestamp)
        included: list[int] = []
        for index, tx in enumerate(handles):
            try:
                self._chain.apply_transaction(tx)
            except Exception:  # invalid at inclusion time: dropped, as a node's pool would
                continue
            included.append(index)
        self._mine_pending()
        return included

    def mine_empty(self, timestamp: int) -> None:
        """Mine an empty block at ``timestamp``."""
        self._chain.header = self._chain.header.copy(timestamp=timestamp)
        self._mine_pending()

    def _mine_pending(self) -> None:
        number = int(self._chain.header.block_number)
        block = self._chain.mine_block(mix_hash=_mix_hash(number))
        for tx in block.transactions:
            self._tx_index[tx.hash] = block.hash

    def revert_to(self, block_hash: bytes) -> None:
        """Make the block ``block_hash`` the head again (a snapshot revert)."""
        if block_hash != self.head_hash():
            self._backend.revert_to_snapshot(block_hash)
            self._chain = self._backend.chain  # a new chain object when back at genesis

    # ------------------------------------------------------------------ blocks

    def canonical_hash(self, number: int) -> bytes:
        """The hash of canonical block ``number`` (at most the head's)."""
        return bytes(self._chain.chaindb.get_canonical_block_hash(number))

    def _record_of(self, block: Any) -> BlockRecord:
        block_hash = bytes(block.hash)
        record = self._blocks.get(block_hash)
        if record is None:
            record = block_record(block)
            _bounded_put(self._blocks, block_hash, record)
        return record

    def block_by_number(self, number: int) -> BlockRecord | None:
        """The canonical block ``number`` or None."""
        if number < 0 or number > self.head_number():
            return None
        record = self._blocks.get(self.canonical_hash(number))
        if record is not None:
            return record
        return self._record_of(self._chain.get_canonical_block_by_number(number))

    def block_by_hash(self, block_hash: bytes) -> BlockRecord | None:
        """The canonical block with ``block_hash`` or None."""
        record = self._blocks.get(block_hash)
        if record is None:
            try:
                block = self._chain.get_block_by_hash(block_hash)
            except Exception:
                return None
            record = self._record_of(block)
        number = record.number
        if number > self.head_number() or self.canonical_hash(number) != record.hash:
            return None
        return record

    def pending_block(self, timestamp: int) -> BlockRecord:
        """The (empty) block being built, as it would be with ``timestamp``."""
        block = self._chain.get_block()
        return block_record(block.copy(header=block.header.copy(timestamp=timestamp)))

    def find_transaction(self, tx_hash: bytes) -> tuple[BlockRecord, TxRecord, int] | None:
        """(block, transaction, index) of a mined canonical transaction, or None."""
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

    def _extras(
        self, number: int, block_hash: bytes, tx_hashes: Sequence[bytes], receipt_root: bytes
    ) -> tuple[tuple[ReceiptRecord, ...], list[LogEntry]]:
        """The receipts and logs of a mined block, cached by its hash."""
        cached = self._receipts.get(block_hash)
        if cached is None:
            builder = self._chain.get_vm_class_for_block_number(number).get_block_class()
            # py-evm reads a block's receipts from its receipt trie: only the root is needed.
            raw = tuple(
                self._chain.chaindb.get_receipts(
                    _ReceiptRoot(receipt_root), builder.get_receipt_builder()
                )
            )
            logs = log_entries(number, block_hash, tx_hashes, raw)
            cached = (receipt_records(raw, logs), logs)
            _bounded_put(self._receipts, block_hash, cached)
        return cached

    def _record_extras(
        self, block: BlockRecord
    ) -> tuple[tuple[ReceiptRecord, ...], list[LogEntry]]:
        return self._extras(
            block.number,
            block.hash,
            [tx.hash for tx in block.transactions],
            block.header.receipt_root,
        )

    def receipts(self, block: BlockRecord) -> tuple[ReceiptRecord, ...]:
        """The receipts of a mined block, in transaction order."""
        return self._record_extras(block)[0]

    def block_logs(self, block: BlockRecord) -> list[LogEntry]:
        """All logs of a mined block, in order."""
        return self._record_extras(block)[1]

    def iter_logs(self, log_filter: LogFilter) -> Iterator[LogEntry]:
        """Logs of canonical blocks in the filter's range (up to the head) that match it."""
        last = min(log_filter.to_block, self.head_number())
        for number in range(max(0, log_filter.from_block), last + 1):
            block = self._chain.get_canonical_block_by_number(number)
            if not block.transactions:
                continue
            block_hash = bytes(block.hash)
            logs = self._receipts.get(block_hash)
            if logs is None:
                header = block.header
                tx_hashes = [bytes(tx.hash) for tx in block.transactions]
                logs = self._extras(number, block_hash, tx_hashes, header.receipt_root)
            for entry in logs[1]:
                if log_filter.matches(entry):
                    yield entry

    # ------------------------------------------------------------------ state reads

    def _state(self, number: int) -> Any:
        """The state after block ``number`` (the head's from the head on)."""
        if number >= self.head_number():
            header = self._chain.get_canonical_head()
        else:
            header = self._chain.get_canonical_block_header_by_number(number)
        return self._chain.get_vm(header).state

    def balance(self, address: bytes, number: int) -> int:
        """Balance in wei after block ``number``."""
        return int(self._state(number).get_balance(address))

    def nonce(self, address: bytes, number: int) -> int:
        """Transaction count after block ``number``."""
        return int(self._state(number).get_nonce(address))

    def code(self, address: bytes, number: int) -> bytes:
        """Runtime code after block ``number``."""
        return bytes(self._state(number).get_code(address))

    def storage(self, address: bytes, slot: int, number: int) -> int:
        """Storage word ``slot`` after block ``number``."""
        return int(self._state(number).get_storage(address, slot))

    # ------------------------------------------------------------------ calls

    def _call_header(self, number: int | None, timestamp: int) -> Any:
        """The header calls run in (base fee 0, as geth's eth_call): the next block's, with
        ``timestamp``, when ``number`` is None, else mined block ``number``'s.

        The same header object is returned while what it stands for is unchanged (for the next
        block: the chain's head and the timestamp; for a mined block: its canonical hash), so
        that :meth:`_call_vm` can reuse its VM across a batch of calls pinned to one block. A
        new block, a revert or a time step gives a new header.
        """
        key: tuple[Any, ...]
        if number is None:
            key = ("next", bytes(self._chain.header.parent_hash), timestamp)
        else:
            key = ("mined", number, self.canonical_hash(number))
        cached = self._call_header_cache
        if cached is None or cached[0] != key:
            if number is None:
                header = self._chain.get_block().header.copy(timestamp=timestamp)
            else:
                header = self._chain.get_canonical_block_header_by_number(number)
            cached = (key, header.copy(base_fee_per_gas=0))
            self._call_header_cache = cached
        return cached[1]

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

    def _spoof(self, params: CallParams, header: Any, gas: int) -> Any:
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

    def _run(self, params: CallParams, header: Any, gas: int) -> Any:
        vm, tx = self._spoof(params, header, gas)
        state = vm.state
        snapshot = state.snapshot()
        try:
            return state.apply_transaction(tx)
        except EVMValidationError as exc:
            raise rejected(exc) from None
        finally:
            state.revert(snapshot)

    def call(self, params: CallParams, number: int | None, timestamp: int) -> bytes:
        """Execute without mining (see :meth:`_call_header` for the context); the output."""
        header = self._call_header(number, timestamp)
        gas = params.gas if params.gas is not None else int(header.gas_limit)
        computation = self._run(params, header, gas)
        if computation.is_error:
            raise failed_call(computation)
        return bytes(computation.output)

    def estimate_gas(self, params: CallParams, number: int | None, timestamp: int) -> int:
        """The smallest gas limit with which the message succeeds."""
        header = self._call_header(number, timestamp)
        cap = params.gas if params.gas is not None else int(header.gas_limit)
        computation = self._run(params, header, cap)
        if computation.is_error:
            error = failed_call(computation)
            if isinstance(error, ExecutionError) and cap != int(header.gas_limit):
                raise ExecutionError(f"gas required exceeds allowance ({cap})")
            raise error
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


__all__ = ["Engine", "Handle", "contract_address"]
