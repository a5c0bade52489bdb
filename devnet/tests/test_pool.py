"""The transaction pool (``ogpu_devnet._pool``): geth's replacement rule, the queued set's
limits, and promotion of a queued transaction once its nonce gap fills. Real signed
transactions, decoded by the engine."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from ogpu_devnet._evm import Engine
from ogpu_devnet._pool import (
    MAX_QUEUED_PER_SENDER,
    MAX_QUEUED_TOTAL,
    REPLACEMENT_PRICE_BUMP,
    PooledTx,
    TxPool,
    check_replacement_fees,
)
from ogpu_devnet.chain import DEFAULT_BALANCE_WEI, DEFAULT_CHAIN_ID, default_accounts
from ogpu_devnet.errors import TransactionRejectedError

GWEI = 10**9
ACCOUNTS = default_accounts(10)
TO = ACCOUNTS[9].address


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(DEFAULT_CHAIN_ID, 1_700_000_000, ACCOUNTS, DEFAULT_BALANCE_WEI)


def _tx(engine: Engine, nonce: int, sender: int = 0, value: int = 1, **fees: int) -> PooledTx:
    fees = fees or {"maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI}
    tx = {"to": TO, "value": value, "gas": 21000, "nonce": nonce, "chainId": DEFAULT_CHAIN_ID}
    signed = Account.from_key(ACCOUNTS[sender].private_key).sign_transaction({**tx, **fees})
    raw = bytes(signed.raw_transaction)
    record, handle = engine.decode(raw)
    return PooledTx(raw, record, handle)


def _pool(engine: Engine) -> TxPool:
    return TxPool(engine.next_balance)


def test_replacement_needs_both_caps_raised_by_the_bump(engine: Engine) -> None:
    assert REPLACEMENT_PRICE_BUMP == 10
    old = _tx(engine, 0, maxFeePerGas=100 * GWEI, maxPriorityFeePerGas=10 * GWEI).tx

    def new(fee: int, tip: int) -> Any:
        return _tx(engine, 0, maxFeePerGas=fee * GWEI, maxPriorityFeePerGas=tip * GWEI).tx

    check_replacement_fees(old, new(110, 11))
    for fee, tip in ((109, 11), (110, 10), (200, 10), (100, 100)):
        with pytest.raises(TransactionRejectedError, match="underpriced"):
            check_replacement_fees(old, new(fee, tip))
    # legacy: gasPrice stands for both caps, so the types mix
    legacy = _tx(engine, 0, gasPrice=111 * GWEI).tx
    check_replacement_fees(old, legacy)
    with pytest.raises(TransactionRejectedError, match="underpriced"):
        check_replacement_fees(legacy, new(200, 100))  # the tip does not rise by 10 %


def test_pending_add_replaces_in_place_and_refuses_duplicates(engine: Engine) -> None:
    pool = _pool(engine)
    first, other = _tx(engine, 0), _tx(engine, 0, sender=1)
    assert pool.add(first, next_nonce=0) is True
    assert pool.add(other, next_nonce=0) is True
    with pytest.raises(TransactionRejectedError, match="already known"):
        pool.add(first, next_nonce=1)
    with pytest.raises(TransactionRejectedError, match="underpriced"):
        pool.add(_tx(engine, 0, value=2), next_nonce=1)
    better = _tx(engine, 0, maxFeePerGas=11 * GWEI, maxPriorityFeePerGas=2 * GWEI)
    assert pool.add(better, next_nonce=1) is False
    assert [p.tx.hash for p in pool.pending] == [better.tx.hash, other.tx.hash]
    assert pool.pending_count(first.tx.sender) == 1
    with pytest.raises(TransactionRejectedError, match="nonce too low"):
        pool.add(_tx(engine, 1, value=3), next_nonce=2)
    assert pool.find(better.tx.hash) == better.tx and pool.find(first.tx.hash) is None
    assert pool.take_pending() == [better, other] and pool.pending == []


def test_future_nonces_queue_and_promote_when_the_gap_fills(engine: Engine) -> None:
    pool = _pool(engine)
    later = [_tx(engine, n) for n in (2, 3, 5)]
    for entry in later:
        assert pool.add(entry, next_nonce=0) is False
    assert pool.pending == [] and pool.is_queued(later[0].tx.sender, 3)
    assert pool.queued_transactions() == [e.tx for e in later]
    assert pool.pop_ready(later[0].tx.sender, 1) is None  # nonce 1 missing
    assert pool.pop_ready(later[0].tx.sender, 2) == later[0]
    assert pool.pop_ready(later[0].tx.sender, 4) is None  # 3 was stale: dropped
    assert pool.queued_transactions() == [later[2].tx]
    assert pool.pop_ready(later[0].tx.sender, 5) == later[2]
    assert not pool.has_queued(later[0].tx.sender) and pool.queued == {}


def test_queued_limits_per_sender_and_in_total(engine: Engine) -> None:
    pool = _pool(engine)
    for nonce in range(1, MAX_QUEUED_PER_SENDER + 1):
        pool.queue(_tx(engine, nonce))
    with pytest.raises(TransactionRejectedError, match=r"txpool is full: 64 .* queued for 0x"):
        pool.queue(_tx(engine, MAX_QUEUED_PER_SENDER + 1))
    # a replacement at a queued nonce is not a new entry; a same-fee one is underpriced
    pool.queue(_tx(engine, 1, maxFeePerGas=20 * GWEI, maxPriorityFeePerGas=2 * GWEI))
    with pytest.raises(TransactionRejectedError, match="underpriced"):
        pool.queue(_tx(engine, 2, value=2))
    entry = _tx(engine, 2)
    with pytest.raises(TransactionRejectedError, match="already known"):
        pool.queue(entry)
    # fill the global bound from the other senders (queued entries are not checked again)
    assert MAX_QUEUED_TOTAL % MAX_QUEUED_PER_SENDER == 0
    template = _tx(engine, 1, sender=1)
    for i in range(1, MAX_QUEUED_TOTAL // MAX_QUEUED_PER_SENDER):
        sender = bytes([i]) * 20
        pool.queued[sender] = {n: template for n in range(MAX_QUEUED_PER_SENDER)}
    with pytest.raises(TransactionRejectedError, match=f"txpool is full: {MAX_QUEUED_TOTAL} "):
        pool.queue(_tx(engine, 1, sender=2))


def test_a_transaction_its_sender_cannot_pay_for_is_refused(engine: Engine) -> None:
    pool = _pool(engine)
    with pytest.raises(TransactionRejectedError, match="insufficient funds"):
        pool.add(_tx(engine, 0, value=DEFAULT_BALANCE_WEI), next_nonce=0)
    with pytest.raises(TransactionRejectedError, match="insufficient funds"):
        pool.queue(_tx(engine, 4, value=DEFAULT_BALANCE_WEI))
    assert pool.pending == [] and pool.queued == {}
    pool.add(_tx(engine, 0), next_nonce=0)
    pool.clear()
    assert pool.pending == [] and pool.queued == {}
