"""Eight threads x 25 transactions from one key: consecutive nonces, no duplicated intent."""

from __future__ import annotations

import threading
from typing import Any

from ogpu.chain import ChainConfig

from .conftest import set_live_data


def test_eight_threads_share_one_key(net: Any) -> None:
    key = net.other.private_key
    receipts: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    threads_n, per_thread = 8, 25

    def worker(t: int) -> None:
        try:
            for i in range(per_thread):
                # a distinct intent per (thread, i): the live-data string
                r = set_live_data(f"t{t}-i{i}", signer=key)
                with lock:
                    receipts.append(r)
        except BaseException as exc:  # pragma: no cover - reported below
            with lock:
                errors.append(exc)

    client = ChainConfig.rpc_client()
    start = int(client.request("eth_getTransactionCount", [net.other.address, "latest"]), 16)
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    total = threads_n * per_thread
    assert len(receipts) == total and all(r.status == 1 for r in receipts)
    end = int(client.request("eth_getTransactionCount", [net.other.address, "latest"]), 16)
    assert end - start == total  # nothing extra was sent (no duplicated intent)
    txs = client.batch([("eth_getTransactionByHash", [r.tx_hash]) for r in receipts])
    nonces = sorted(int(tx["nonce"], 16) for tx in txs)
    assert nonces == list(range(start, start + total))
    from eth_abi import decode

    payloads = [decode(["string"], bytes.fromhex(tx["input"][10:]))[0] for tx in txs]
    assert len(set(payloads)) == total


def _send_raw(net: Any, nonce: int) -> None:
    """Another process sends from ``net.other``'s key at ``nonce`` (mined at once)."""
    from eth_account import Account

    signed = Account.from_key(net.other.private_key).sign_transaction(
        {
            "to": net.other.address,
            "value": 0,
            "gas": 21_000,
            "gasPrice": 10**10,
            "nonce": nonce,
            "chainId": ChainConfig.get_current_chain().value,
        }
    )
    raw = "0x" + bytes(signed.raw_transaction).hex()
    ChainConfig.rpc_client().request("eth_sendRawTransaction", [raw])


def _count(address: str, tag: str) -> int:
    return int(ChainConfig.rpc_client().request("eth_getTransactionCount", [address, tag]), 16)


def test_observed_pending_count_merges_without_going_backwards(net: Any) -> None:
    """NonceSlot.observe: the larger of the cache and the node's count wins; an empty cache
    takes a count read before the lock only if the cache was not dropped since (a drop
    follows a send whose fate is unknown, which that count may predate)."""
    from ogpu.chain import NonceManager

    addr = net.other.address
    start = _count(addr, "pending")
    epoch = NonceManager.epoch(addr)
    with NonceManager.hold(addr) as slot:
        assert slot.observe(start, epoch) == start  # empty cache, nothing dropped: no I/O
        slot.commit(start + 4)  # this process handed out nonces the node does not see yet
        assert slot.observe(start, epoch) == start + 5  # never backwards
        assert slot.observe(start + 7, epoch) == start + 7  # another process got ahead
        slot.invalidate()
        assert slot.observe(start + 9, epoch) == start  # dropped since the read: re-read
    # a count read, then one of our sends of unknown fate, then a drop: the stale count
    # must not be reused
    read_epoch = NonceManager.epoch(addr)
    stale = _count(addr, "pending")
    _send_raw(net, stale)
    NonceManager.reset_nonce(addr)
    with NonceManager.hold(addr) as slot:
        assert slot.observe(stale, read_epoch) == stale + 1
    assert NonceManager.get_cached_nonce(addr) == stale + 1


def test_threads_sharing_a_key_behind_another_sender(net: Any) -> None:
    """The cache is stale (another process sent from the key): four threads x ten intents
    still get consecutive nonces right after the other sender's, and nothing is duplicated."""
    key, addr = net.other.private_key, net.other.address
    set_live_data("warm", signer=key)
    start = _count(addr, "latest")
    _send_raw(net, start)
    receipts: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            for i in range(10):
                r = set_live_data(f"s{t}-{i}", signer=key)
                with lock:
                    receipts.append(r)
        except BaseException as exc:  # pragma: no cover - reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert _count(addr, "latest") == start + 1 + 40
    client = ChainConfig.rpc_client()
    txs = client.batch([("eth_getTransactionByHash", [r.tx_hash]) for r in receipts])
    assert sorted(int(tx["nonce"], 16) for tx in txs) == list(range(start + 1, start + 41))
