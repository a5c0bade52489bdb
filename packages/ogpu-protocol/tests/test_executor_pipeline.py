"""What the executor does under the nonce lock, over real sockets (a proxy in front of the
devnet): a task's expiry is checked against the block of the first round trip (no extra round
trip), or against a re-read block when the lock was waited for longer than ``BLOCK_FRESH``;
the receipt and its block's timestamp come in one round trip; and many threads publishing from
one key through a proxy that loses sends still use contiguous nonces, each intent mined once.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from ogpu.chain import NonceManager
from ogpu.chain import tx as executor
from ogpu.chain._rpc import RpcClient
from ogpu.protocol import controller
from ogpu.types import TaskExpiredError, TaskParams


def _direct(net: Any) -> RpcClient:
    return RpcClient(net.rpc_url)


def _mined_nonce(net: Any, address: str) -> int:
    return int(_direct(net).request("eth_getTransactionCount", [address, "latest"]), 16)


def _methods(body: bytes) -> list[str]:
    payload = json.loads(body)
    calls = payload if isinstance(payload, list) else [payload]
    return [str(c["method"]) for c in calls]


def test_publish_task_is_three_round_trips_with_the_expiry_checked(
    net: Any, counting_proxy: Any
) -> None:
    """Estimate batch, send, receipt batch: the expiry check right before signing reads the
    first batch's block, and the receipt's timestamp comes with the receipt."""
    source = net.publish_source()
    net.fund_client()
    params = TaskParams(
        source=source.address, config="ipfs://rt", expiryTime=net.now() + 600, payment=100
    )
    counting_proxy.reset()
    receipt = controller.publish_task(params, signer=net.client.private_key)
    rounds = [_methods(b) for b in counting_proxy.bodies]
    assert len(rounds) == 3, rounds
    assert {"eth_estimateGas", "eth_getBlockByNumber"} <= set(rounds[0])
    assert rounds[1] == ["eth_sendRawTransaction"]
    assert rounds[2] == ["eth_getTransactionReceipt", "eth_getBlockByNumber"]
    block = _direct(net).request("eth_getBlockByNumber", [hex(receipt.block_number), False])
    assert receipt.timestamp == int(block["timestamp"], 16) > 0
    assert source.get_task_count() == 1


def test_expiry_passing_while_waiting_for_the_lock_is_refused(
    net: Any, counting_proxy: Any
) -> None:
    """The first batch saw a chain time before the expiry; another thread held the key's nonce
    lock longer than BLOCK_FRESH while the chain's clock passed the expiry: the block is read
    again under the lock, the task is refused and nothing is sent."""
    source = net.publish_source()
    net.fund_client()
    key, address = net.client.private_key, net.client.address
    params = TaskParams(
        source=source.address, config="ipfs://late", expiryTime=net.now() + 60, payment=100
    )
    start = _mined_nonce(net, address)
    counting_proxy.reset()
    outcome: list[BaseException | None] = []

    def publish() -> None:
        try:
            controller.publish_task(params, signer=key)
            outcome.append(None)
        except BaseException as exc:  # reported below
            outcome.append(exc)

    with NonceManager.hold(address):
        worker = threading.Thread(target=publish)
        worker.start()
        deadline = time.monotonic() + 30
        while not any("eth_estimateGas" in _methods(b) for b in list(counting_proxy.bodies)):
            assert time.monotonic() < deadline, "the first batch never came"
            time.sleep(0.01)
        # The first batch is answered (or about to be): move the chain's clock past the expiry
        # behind the SDK's back, and keep the lock past BLOCK_FRESH.
        direct = _direct(net)
        direct.request("evm_increaseTime", [120])
        direct.request("evm_mine", [])
        time.sleep(executor.BLOCK_FRESH + 0.3)
    worker.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], TaskExpiredError), outcome
    assert _mined_nonce(net, address) == start  # nothing was signed and sent
    assert not any("eth_sendRawTransaction" in _methods(b) for b in counting_proxy.bodies)
    assert source.get_task_count() == 0


@pytest.mark.slow
def test_eight_threads_publish_from_one_key_through_lost_sends(net: Any, fault_proxy: Any) -> None:
    """8 threads x 5 tasks from one key; the proxy adds latency, loses one send before the node
    sees it and the answer of another after the node took it. Every intent is mined exactly
    once, the nonces are contiguous, and no nonce is used beyond the intents."""
    source = net.publish_source(max_expiry=86400)
    net.fund_client()
    key, address = net.client.private_key, net.client.address
    expiry = net.now() + 3600
    threads_n, per_thread = 8, 5
    total = threads_n * per_thread
    start = _mined_nonce(net, address)
    fault_proxy.latency = 0.01
    fault_proxy.inject("eth_sendRawTransaction", "drop", "forward_then_drop")
    receipts: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            for i in range(per_thread):
                params = TaskParams(
                    source=source.address,
                    config=f"ipfs://t{t}-i{i}",
                    expiryTime=expiry,
                    payment=100,
                )
                receipt = controller.publish_task(params, signer=key, receipt_timeout=60)
                with lock:
                    receipts.append(receipt)
        except BaseException as exc:  # reported below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert errors == []
    assert fault_proxy.faults.get("eth_sendRawTransaction") == []  # both faults were hit
    assert len(receipts) == total and all(r.status == 1 for r in receipts)
    assert _mined_nonce(net, address) - start == total  # no nonce beyond the intents
    direct = _direct(net)
    txs = direct.batch([("eth_getTransactionByHash", [r.tx_hash]) for r in receipts])
    assert sorted(int(tx["nonce"], 16) for tx in txs) == list(range(start, start + total))
    # each intent (its config URL) mined exactly once: one task per intent on the source
    configs = {f"ipfs://t{t}-i{i}" for t in range(threads_n) for i in range(per_thread)}
    tasks = [controller.extract_task_address(r) for r in receipts]
    assert len(set(tasks)) == total and source.get_task_count() == total
    from ogpu.protocol import Task, snapshot_all

    assert {s.params.config for s in snapshot_all([Task(a) for a in tasks])} == configs
