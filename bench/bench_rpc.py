"""JSON-RPC transport benchmark: request counts of the read models with and without batches,
and the time the devnet takes to reject hostile bodies (its JSON depth pre-scan).

- counts: ``Source(s).get_tasks()`` for 250 tasks and ``Task(t).get_responses()`` for 20
  attempters, counted at the devnet (HTTP requests and JSON-RPC calls it received), with the
  devnet accepting batches and started as ``--no-batch`` (the SDK falls back to concurrent
  single requests and remembers it).
- pre-scan: ``ogpu_devnet.rpc._too_deep`` (and the whole ``handle_body``) on hostile bodies of
  80 KiB and 1 MiB; the string regex it replaced (copied below as ``_old_too_deep``) is timed on
  small bodies only (it is quadratic: 80 KiB took 45 s on this machine, 1 MiB would take hours;
  ``OGPU_BENCH_OLD_PRESCAN_KIB=80`` times it at that size).

Numbers come from one run on this machine; nothing here is asserted.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from eth_account import Account
from ogpu.chain import ChainConfig, ChainId, clear_all_nonce_caches, resolve_signer
from ogpu.chain._rpc import forget_batch_limits
from ogpu.protocol import Source, Task, _abi, chain_time, nexus, vault
from ogpu.protocol._revert import RevertContext
from ogpu.protocol._tx import transact
from ogpu.types import Environment, SourceParams, TaskParams
from ogpu_devnet import Devnet
from ogpu_devnet import rpc as devnet_rpc

N_TASKS = 250
N_ATTEMPTERS = 20

_OLD_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OLD_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _old_too_deep(body: bytes) -> bool:
    """The pre-scan before this change (for comparison only)."""
    if body.count(b"[") + body.count(b"{") <= devnet_rpc.MAX_JSON_DEPTH:
        return False
    depth = 0
    for byte in _OLD_STRINGS.sub(b"", body).translate(None, _OLD_NOT_BRACKETS):
        if byte in b"[{":
            depth += 1
            if depth > devnet_rpc.MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
    return False


def _hostile(size: int) -> bytes:
    return b'"\\' * (size // 2) + b"[]" * 70


def _timed(fn: Any, *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def prescan() -> None:
    methods = devnet_rpc.RPCMethods.__new__(devnet_rpc.RPCMethods)  # handle_body needs no chain
    print("depth pre-scan on an unterminated escaped-quote body (+ 70 '[]'):")
    for label, size in (("80 KiB", 80 * 1024), ("1 MiB", 1024 * 1024)):
        body = _hostile(size)
        scan = _timed(devnet_rpc._too_deep, body)
        whole = _timed(methods.handle_body, body)
        print(
            f"  new  {label:>7}: pre-scan {scan * 1000:8.2f} ms, whole answer {whole * 1000:8.2f} ms"
        )
    sizes = [10, 20, 40]
    extra = os.environ.get("OGPU_BENCH_OLD_PRESCAN_KIB")
    if extra:
        sizes.append(int(extra))
    for kib in sizes:
        print(f"  old  {kib:>4} KiB: pre-scan {_timed(_old_too_deep, _hostile(kib * 1024)):8.2f} s")


def _setup(net: Devnet) -> tuple[Source, Task]:
    ChainConfig.configure(
        ChainId.OGPU_DEVNET,
        rpc_url=net.rpc_url,
        contracts=dict(net.contracts),
        ipfs_publish_url=net.ipfs.publish_url if net.ipfs else None,
        ipfs_gateway_url=net.ipfs.gateway_url if net.ipfs else None,
    )
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)
    clear_all_nonce_caches()
    deployer, client = net.accounts[0], net.accounts[1]
    receipt = nexus.publish_source(
        SourceParams(
            client=client.address,
            imageMetadataUrl="ipfs://bench",
            imageEnvironments=1,
            minPayment=10,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=0,
        ),
        signer=client.private_key,
    )
    source = Source(nexus.extract_source_address(receipt))
    vault.deposit(client.address, 10**18, signer=client.private_key)
    fn = _abi.fn("mainnet", "Controller", "publishTask")
    account = resolve_signer(client.private_key)
    expiry = chain_time() + 3000
    for i in range(N_TASKS):
        transact(
            to=ChainConfig.get_contract_address("CONTROLLER"),
            data=fn.encode(
                TaskParams(
                    source=source.address, config=f"ipfs://t{i}", expiryTime=expiry, payment=100
                ).to_tuple()
            ),
            signer=account,
            ctx=RevertContext("publishTask", account.address),
        )
    task = source.get_tasks()[0]
    funder = resolve_signer(deployer.private_key)
    w3 = net.web3()
    for _ in range(N_ATTEMPTERS):
        prov = Account.create()
        w3.eth.send_raw_transaction(
            funder.sign_transaction(
                {
                    "to": prov.address,
                    "value": 10**18,
                    "gas": 21_000,
                    "gasPrice": 10**10,
                    "nonce": w3.eth.get_transaction_count(funder.address, "pending"),
                    "chainId": net.chain_id,
                }
            ).raw_transaction
        )
        key = "0x" + bytes(prov.key).hex()
        vault.deposit(prov.address, 10**16, signer=key)
        vault.lock(10**16, signer=key)
        nexus.register(source.address, prov.address, Environment.CPU, signer=key)
        nexus.attempt(task.address, prov.address, 50, signer=key)
        # What the provider runtime does (the SDK exposes no such call).
        transact(
            to=ChainConfig.get_contract_address("NEXUS"),
            data=_abi.fn("mainnet", "Nexus", "submit" + "Response").encode(
                (task.address, prov.address, f"ipfs://r-{prov.address}", 50)
            ),
            signer=resolve_signer(key),
            ctx=RevertContext("bench.respond", prov.address),
        )
    return source, task


def counts() -> None:
    with Devnet() as net:
        source, task = _setup(net)
        assert net.rpc is not None
        knobs = net.rpc.knobs
        for mode in ("normal", "no-batch"):
            forget_batch_limits()
            net.set_batching(no_batch=mode == "no-batch")
            knobs.counts(reset=True)
            ChainConfig.rpc_client().batch([("eth_chainId", []), ("eth_blockNumber", [])])
            http, _ = knobs.counts(reset=True)
            print(f"  {mode:>8}: a first batch of 2 calls: {http} HTTP requests (limit learnt)")
            for label, read, expect in (
                (
                    f"Source.get_tasks() ({N_TASKS} tasks)",
                    Source(source.address).get_tasks,
                    N_TASKS,
                ),
                (
                    f"Task.get_responses() ({N_ATTEMPTERS} attempters)",
                    Task(task.address).get_responses,
                    N_ATTEMPTERS,
                ),
                (
                    f"Task.get_attempters() ({N_ATTEMPTERS} attempters)",
                    Task(task.address).get_attempters,
                    N_ATTEMPTERS,
                ),
            ):
                knobs.counts(reset=True)
                t0 = time.perf_counter()
                items = read()
                elapsed = time.perf_counter() - t0
                http, calls = knobs.counts(reset=True)
                assert len(items) == expect, (label, len(items))
                print(
                    f"  {mode:>8}: {label:<55} {http:4d} HTTP requests, {calls:4d} calls, "
                    f"{elapsed * 1000:7.1f} ms"
                )
        net.set_batching()
        forget_batch_limits()


def main() -> None:
    prescan()
    print("request counts at the devnet:")
    counts()


if __name__ == "__main__":
    main()
