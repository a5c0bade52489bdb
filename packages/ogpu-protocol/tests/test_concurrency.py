"""Eight threads x 25 transactions from one key: consecutive nonces, no duplicated intent."""

from __future__ import annotations

import threading
from typing import Any

from ogpu.chain import ChainConfig
from ogpu.protocol import terminal


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
                r = terminal.set_live_data(f"t{t}-i{i}", signer=key)
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
