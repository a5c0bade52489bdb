"""Catalogue 5: load (``slow``). 8 clients publish 25 tasks each, concurrently, to one devnet
served by 4 providers: every task completes, every wei is accounted for, no nonce is used
twice. 200 concurrent uploads to the pinning service lose nothing. 40 JSON-RPC clients that
connect at the same instant all get answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import ogpu.ipfs
import pytest
import requests
from ogpu.chain import ChainConfig, ChainId, ChainLike, clear_all_nonce_caches
from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    TaskInfo,
    TaskInput,
    publish_source,
    publish_task,
    wait_for_status,
)
from ogpu.protocol import Task, chain_time, vault
from ogpu.types import TaskStatus
from ogpu_devnet import Devnet
from ogpu_devnet.provider import start_providers

pytestmark = pytest.mark.slow

CLIENTS = 8
TASKS_PER_CLIENT = 25
PROVIDERS = 4
PAYMENT = 10**15
DEPOSIT = 10**18
THREADS_PER_CLIENT = 2  # two threads share each client's key: the nonce manager's job


def double(input_data: Any) -> Any:
    return {"twice": 2 * int(input_data["n"])}


@pytest.fixture
def fresh(devnet: Any, ogpu_chain: ChainLike) -> Iterator[Devnet]:
    """A devnet of the test's own (nothing else runs on it); the SDK points back afterwards."""
    with Devnet() as mine:
        assert mine.ipfs is not None
        ChainConfig.configure(
            ChainId.OGPU_DEVNET,
            rpc_url=mine.rpc_url,
            contracts=dict(mine.contracts),
            ipfs_publish_url=mine.ipfs.publish_url,
            ipfs_gateway_url=mine.ipfs.gateway_url,
        )
        ogpu.ipfs.configure(publish_url=mine.ipfs.publish_url, gateway=mine.ipfs.gateway_url)
        clear_all_nonce_caches()
        try:
            yield mine
        finally:
            ChainConfig.configure(
                ChainId.OGPU_DEVNET,
                rpc_url=devnet.rpc_url,
                contracts=dict(devnet.contracts),
                ipfs_publish_url=devnet.ipfs.publish_url,
                ipfs_gateway_url=devnet.ipfs.gateway_url,
            )
            ogpu.ipfs.configure(reset=True)
            clear_all_nonce_caches()


def test_eight_clients_two_hundred_tasks_four_providers(fresh: Devnet) -> None:
    clients = fresh.accounts[1 : 1 + CLIENTS]
    assert len(clients) == CLIENTS and fresh.accounts[-1] not in clients  # last one: funder
    w3 = ChainConfig.get_web3()
    sources = []
    for c in clients:
        vault.deposit(c.address, DEPOSIT, signer=c.private_key)
        info = SourceInfo(
            name=f"load-{c.address[:8]}", description="load", logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://example.org/docker-compose.yml"),
            minPayment=PAYMENT, minAvailableLockup=0, maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
        )  # fmt: skip
        sources.append(publish_source(info, c.private_key))
    # each provider serves two clients' sources: every task is attempted by one provider
    share = CLIENTS // PROVIDERS
    groups = [
        start_providers(fresh, double, sources=sources[i * share : (i + 1) * share],
                        poll_interval=0.1)
        for i in range(PROVIDERS)
    ]  # fmt: skip
    providers = [p for g in groups for p in g.providers]
    assert len(set(providers)) == PROVIDERS
    try:
        vault_address = ChainConfig.get_contract_address("VAULT")
        held_before = w3.eth.get_balance(vault_address)
        ledger_before = {
            c.address: vault.get_balance_of(c.address) + vault.get_frozen_payment(c.address)
            for c in clients
        }
        earned_before = {p: vault.get_total_earnings_of(p) for p in providers}
        nonces_before = {c.address: w3.eth.get_transaction_count(c.address) for c in clients}

        published: list[tuple[str, int, Task]] = []
        lock = threading.Lock()
        errors: list[BaseException] = []

        def publish(client: Any, source: Any, n: int) -> None:
            try:
                info = TaskInfo(
                    source=source.address,
                    config=TaskInput(function_name="double", data={"n": n}),
                    expiryTime=chain_time() + 3000,
                    payment=PAYMENT,
                )
                task = publish_task(info, client.private_key)
                with lock:
                    published.append((client.address, n, task))
            except BaseException as exc:  # collected: every failure is reported below
                with lock:
                    errors.append(exc)

        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS * THREADS_PER_CLIENT) as pool:
            for n in range(TASKS_PER_CLIENT):
                for client, source in zip(clients, sources, strict=True):
                    pool.submit(publish, client, source, n)
        print(f"published in {time.monotonic() - started:.1f} s")
        assert errors == [], errors[:3]
        assert len(published) == CLIENTS * TASKS_PER_CLIENT
        assert len({t.address for _, _, t in published}) == len(published)

        # no nonce collision: each client's nonce moved by exactly its 25 transactions
        for c in clients:
            sent = w3.eth.get_transaction_count(c.address) - nonces_before[c.address]
            assert sent == TASKS_PER_CLIENT, (c.address, sent)

        # every task completes with the right answer
        for _, n, task in published:
            assert wait_for_status(task, TaskStatus.FINALIZED, timeout=240, poll_interval=0.2)
            response = task.get_confirmed_response()
            assert response is not None and response.fetch_data() == {"twice": 2 * n}

        print(f"all finalized after {time.monotonic() - started:.1f} s")
        # every wei accounted for
        spent = sum(
            ledger_before[c.address]
            - vault.get_balance_of(c.address)
            - vault.get_frozen_payment(c.address)
            for c in clients
        )
        earned = sum(vault.get_total_earnings_of(p) - earned_before[p] for p in providers)
        total = CLIENTS * TASKS_PER_CLIENT * PAYMENT
        assert spent == total and earned == total, (spent, earned, total)
        assert all(vault.get_frozen_payment(c.address) == 0 for c in clients)
        assert w3.eth.get_balance(vault_address) == held_before  # wei moved inside the Vault only
    finally:
        for g in groups:
            g.stop()


def test_two_hundred_concurrent_uploads_lose_nothing(devnet: Any) -> None:
    svc = devnet.ipfs
    ogpu.ipfs.configure(publish_url=svc.publish_url, gateway=svc.gateway_url)
    uploads_before = svc.count("/file/create", "POST")
    barrier = threading.Barrier(200)
    urls: dict[int, str] = {}
    errors: list[BaseException] = []

    def upload(i: int) -> None:
        barrier.wait()
        try:
            urls[i] = ogpu.ipfs.publish_to_ipfs({"upload": i, "pad": "x" * (i * 37 % 4096)})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(200)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == [], errors[:3]
        assert len(urls) == 200 and len(set(urls.values())) == 200
        assert svc.count("/file/create", "POST") - uploads_before >= 200
        ogpu.ipfs.clear_cache()
        got = ogpu.ipfs.fetch_many([urls[i] for i in range(200)], as_json=True, verify=True)
        assert [g["upload"] for g in got] == list(range(200))
    finally:
        ogpu.ipfs.configure(reset=True)


def test_forty_json_rpc_clients_connecting_at_once_are_all_served(fresh: Devnet) -> None:
    url = fresh.rpc_url
    rounds = 5
    barrier = threading.Barrier(40)
    failures: list[str] = []
    answers: list[int] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        for r in range(rounds):
            barrier.wait()
            try:
                with requests.Session() as session:  # a new connection every round
                    body = {"jsonrpc": "2.0", "id": i * 100 + r, "method": "eth_chainId"}
                    answer = session.post(url, json={**body, "params": []}, timeout=60).json()
                with lock:
                    answers.append(int(answer["result"], 16))
            except Exception as exc:
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}"[:200])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == [], f"{len(failures)} of {40 * rounds} requests failed: {failures[:2]}"
    assert answers == [fresh.chain_id] * (40 * rounds)
