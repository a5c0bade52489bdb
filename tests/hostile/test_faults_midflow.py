"""Catalogue 3: faults in the middle of the flow. The pinning service goes down and comes
back; the devnet is restarted from its state directory between publish and confirm; the
provider runtime's process is killed in the middle of a task and started again. Each time
the task still completes, no content is lost, and every wei is paid exactly once (the
Vault's ledgers of the client and of every provider are checked before and after).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ogpu.ipfs
import pytest
from ogpu.chain import ChainConfig, ChainId, ChainLike, clear_all_nonce_caches
from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    TaskInfo,
    TaskInput,
    confirm_response,
    publish_source,
    publish_task,
    wait_for_response,
)
from ogpu.protocol import Task, chain_time, vault
from ogpu.types import IPFSError, OGPUError, ResponseStatus, TaskStatus
from ogpu_devnet import Devnet
from ogpu_devnet.ipfs import MockPinningService
from ogpu_devnet.provider import start_providers

ETHER = 10**18
PAYMENT = 10**16
HERE = Path(__file__).resolve().parent
pytestmark = pytest.mark.slow  # devnets of their own, restarts and subprocesses: ~25 s


def echo(input_data: Any) -> Any:
    return {"echo": input_data}


def ledger(*accounts: str) -> dict[str, tuple[int, int, int]]:
    """(liquid balance, frozen payments, total earnings) in the Vault, per account."""
    return {
        a: (
            vault.get_balance_of(a),
            vault.get_frozen_payment(a),
            vault.get_total_earnings_of(a),
        )
        for a in accounts
    }


def assert_paid_once(
    before: dict[str, tuple[int, int, int]],
    after: dict[str, tuple[int, int, int]],
    client: str,
    providers: list[str],
    payment: int,
) -> None:
    """The client's escrow paid ``payment`` exactly once, to the providers, wei for wei."""
    spent = sum(before[client][:2]) - sum(after[client][:2])
    earned = sum(after[p][2] - before[p][2] for p in providers)
    received = sum(after[p][0] - before[p][0] for p in providers)
    assert spent == payment, f"client paid {spent}, expected {payment}"
    assert earned == payment and received == payment, (earned, received)
    assert after[client][1] == 0  # nothing left frozen


class OwnDevnet:
    """A devnet of the test's own, with a state directory, that can be restarted in place."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.net = Devnet(state_dir=state_dir).start()
        self.rpc_port = self.net.rpc.port if self.net.rpc is not None else 0
        assert self.net.ipfs is not None
        self.ipfs_port = self.net.ipfs.port
        self.point_sdk_here()

    def point_sdk_here(self) -> None:
        ChainConfig.configure(
            ChainId.OGPU_DEVNET,
            rpc_url=self.net.rpc_url,
            contracts=dict(self.net.contracts),
            ipfs_publish_url=self.ipfs.publish_url,
            ipfs_gateway_url=self.ipfs.gateway_url,
        )
        ogpu.ipfs.configure(publish_url=self.ipfs.publish_url, gateway=self.ipfs.gateway_url)
        clear_all_nonce_caches()

    @property
    def ipfs(self) -> MockPinningService:
        assert self.net.ipfs is not None
        return self.net.ipfs

    def restart(self) -> None:
        """Stop everything, then start again from the state directory on the same ports."""
        contracts = dict(self.net.contracts)
        self.net.stop()
        self.net = Devnet(
            state_dir=self.state_dir, rpc_port=self.rpc_port, ipfs_port=self.ipfs_port
        ).start()
        assert self.net.contracts == contracts  # restored, not redeployed
        self.point_sdk_here()

    def stop_ipfs(self) -> None:
        self.ipfs.stop()

    def start_ipfs(self) -> None:
        self.net.ipfs = MockPinningService(
            port=self.ipfs_port, state_dir=self.state_dir / "ipfs"
        ).start()

    @property
    def client_key(self) -> str:
        return str(self.net.accounts[1].private_key)

    @property
    def client(self) -> str:
        return str(self.net.accounts[1].address)

    def source(self, delivery: DeliveryMethod) -> Any:
        vault.deposit(self.client, ETHER, signer=self.client_key)
        info = SourceInfo(
            name="faults", description="faults in the middle of the flow", logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://example.org/docker-compose.yml"),
            minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
            deliveryMethod=delivery,
        )  # fmt: skip
        return publish_source(info, self.client_key)

    def task_info(self, source: Any, text: str) -> TaskInfo:
        return TaskInfo(
            source=source.address,
            config=TaskInput(function_name="echo", data={"text": text}),
            expiryTime=chain_time() + 1800,
            payment=PAYMENT,
        )

    def close(self) -> None:
        self.net.stop()


@pytest.fixture
def own(tmp_path: Path, devnet: Any, ogpu_chain: ChainLike) -> Iterator[OwnDevnet]:
    """A fresh devnet in ``tmp_path``; the SDK points back at the session devnet afterwards."""
    mine = OwnDevnet(tmp_path / "state")
    try:
        yield mine
    finally:
        mine.close()
        ChainConfig.configure(
            ChainId.OGPU_DEVNET,
            rpc_url=devnet.rpc_url,
            contracts=dict(devnet.contracts),
            ipfs_publish_url=devnet.ipfs.publish_url,
            ipfs_gateway_url=devnet.ipfs.gateway_url,
        )
        ogpu.ipfs.configure(reset=True)
        clear_all_nonce_caches()


def test_pinning_service_down_then_back(own: OwnDevnet) -> None:
    source = own.source(DeliveryMethod.FIRST_RESPONSE)
    early = ogpu.ipfs.publish_to_ipfs({"pinned": "before the outage"})
    group = start_providers(own.net, echo, sources=[source], poll_interval=0.05)
    try:
        nonce = ChainConfig.get_web3().eth.get_transaction_count(own.client)
        own.stop_ipfs()
        # down: a typed error, and no transaction (the config could not be uploaded)
        with pytest.raises(IPFSError):
            publish_task(own.task_info(source, "while down"), own.client_key, ipfs_retries=0)
        assert ChainConfig.get_web3().eth.get_transaction_count(own.client) == nonce
        assert source.get_task_count() == 0

        # down when the call starts, back while it retries: one upload, one transaction
        restarter = threading.Timer(0.6, own.start_ipfs)
        restarter.start()
        before = ledger(own.client, *group.providers)
        try:
            task = publish_task(
                own.task_info(source, "back again"), own.client_key,
                ipfs_retries=8, ipfs_backoff=0.2,
            )  # fmt: skip
        finally:
            restarter.join()
        assert own.ipfs.count("/file/create", "POST") == 1
        assert ChainConfig.get_web3().eth.get_transaction_count(own.client) == nonce + 1
        response = wait_for_response(task, timeout=60, poll_interval=0.05)
        assert response.fetch_data() == {"echo": {"text": "back again"}}
        (done,) = group.wait_for_outcomes(task, 1, timeout=60)
        assert done.kind == "submitted"
        assert_paid_once(
            before, ledger(own.client, *group.providers), own.client, group.providers, PAYMENT
        )
    finally:
        group.stop()
    # nothing pinned before the outage was lost
    assert ogpu.ipfs.fetch_ipfs_json(early, verify=True, cache=False) == {
        "pinned": "before the outage"
    }


def test_devnet_restarted_between_publish_and_confirm(own: OwnDevnet) -> None:
    source = own.source(DeliveryMethod.MANUAL_CONFIRMATION)
    group = start_providers(own.net, echo, sources=[source], poll_interval=0.05)
    try:
        before = ledger(own.client, *group.providers)
        task = publish_task(own.task_info(source, "survive a restart"), own.client_key)
        response = wait_for_response(task, timeout=60, poll_interval=0.05, confirmed=False)
        group.wait_for_outcomes(task, 1, timeout=60)
    finally:
        group.stop()
    providers = group.providers

    own.restart()

    # the chain and the pinned content came back: the task, its response and its payload
    task = Task(task.address)
    assert task.get_status() == TaskStatus.RESPONDED
    assert response.fetch_data() == {"echo": {"text": "survive a restart"}}
    confirm_response(response, own.client_key)
    assert response.get_status() == ResponseStatus.CONFIRMED
    assert task.get_status() == TaskStatus.FINALIZED
    after = ledger(own.client, *providers)
    assert_paid_once(before, after, own.client, providers, PAYMENT)
    # a second confirmation is refused, and pays nothing
    with pytest.raises(OGPUError):
        confirm_response(response, own.client_key)
    assert ledger(own.client, *providers) == after


def test_provider_killed_mid_task_and_restarted(own: OwnDevnet, tmp_path: Path) -> None:
    source = own.source(DeliveryMethod.FIRST_RESPONSE)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(own.net.manifest()))
    markers = tmp_path / "markers"
    markers.mkdir()

    def spawn(mode: str) -> tuple[subprocess.Popen[str], list[str]]:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "_provider_process.py"), str(manifest),
             source.address, str(markers), mode],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line, "the provider process died before it was ready"
        return proc, list(json.loads(line)["providers"])

    first, first_providers = spawn("hang")
    second: subprocess.Popen[str] | None = None
    try:
        client_before = ledger(own.client)
        task = publish_task(own.task_info(source, "killed mid-task"), own.client_key)
        deadline = time.monotonic() + 60
        while not (markers / "started").exists():  # attempted, now inside the handler
            assert time.monotonic() < deadline, "the first provider never started the task"
            time.sleep(0.05)
        first.kill()  # SIGKILL: no clean-up, no goodbye
        first.wait(30)
        assert task.get_status() == TaskStatus.ATTEMPTED
        assert task.get_responses() == []

        second, second_providers = spawn("work")
        response = wait_for_response(task, timeout=90, poll_interval=0.1)
        assert response.fetch_data()["by"] == "work"
        providers = first_providers + second_providers
        after = ledger(own.client, *providers)
        # fresh provider keys: every wei they earned came from this task
        spent = sum(client_before[own.client][:2]) - sum(after[own.client][:2])
        earned = sum(after[p][2] for p in providers)
        assert spent == PAYMENT and earned == PAYMENT, (spent, earned)
        assert after[own.client][1] == 0  # nothing left frozen
        assert all(after[p][2] == 0 for p in first_providers)  # the killed one got nothing
        assert len(task.get_responses()) == 1  # one answer, one payment
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(30)


def test_a_stopped_service_cuts_its_keep_alive_connections() -> None:
    """Without this, a "stopped" devnet kept answering on pooled connections (an outage that
    clients never saw, and answers from a chain that had been closed)."""
    import requests

    with MockPinningService() as svc:
        session = requests.Session()
        assert session.post(svc.publish_url, files={"file": ("a.json", b"{}")}).ok
        svc.stop()
        with pytest.raises(requests.ConnectionError):
            session.post(svc.publish_url, files={"file": ("b.json", b"{}")}, timeout=5)
        session.close()
