"""Devnet benchmark: start time and transactions per second over HTTP JSON-RPC.

- start: ``Devnet().start()`` (chain genesis, protocol deployment, JSON-RPC and pinning service)
  until the first successful ``eth_chainId`` over HTTP; in process (median of 3) and as
  ``ogpu-devnet serve`` in a fresh interpreter (until the manifest appears and answers).
- throughput: N value transfers and N ``Vault.deposit`` calls, signed locally beforehand and
  sent with web3.py's HTTPProvider (each transaction auto-mines its own block), sequentially
  and from 4 client threads.

Numbers come from one run on this machine; nothing here is asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from ogpu_devnet import Devnet
from web3 import Web3

N = int(os.environ.get("OGPU_BENCH_TXS", "300"))


def _time_start() -> float:
    t0 = time.perf_counter()
    net = Devnet().start()
    try:
        assert Web3(Web3.HTTPProvider(net.rpc_url)).eth.chain_id == 31071
        return time.perf_counter() - t0
    finally:
        net.stop()


def _time_cli_start() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        manifest = Path(tmp) / "m.json"
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ogpu_devnet", "serve", "--rpc-port", "0", "--ipfs-port", "0",
             "--manifest", str(manifest)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not manifest.exists():
                if proc.poll() is not None:
                    raise SystemExit("ogpu-devnet serve exited early")
                time.sleep(0.01)
            url = json.loads(manifest.read_text())["rpc_url"]
            assert Web3(Web3.HTTPProvider(url)).eth.chain_id == 31071
            return time.perf_counter() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _signed_batch(w3: Any, key: str, n: int, make: Any) -> list[bytes]:
    acct = Account.from_key(key)
    nonce = w3.eth.get_transaction_count(acct.address)
    out = []
    for i in range(n):
        tx = make(acct.address)
        tx.update(
            nonce=nonce + i, chainId=31071, maxFeePerGas=10 * 10**9, maxPriorityFeePerGas=10**9
        )
        out.append(bytes(acct.sign_transaction(tx).raw_transaction))
    return out


def _send_all(url: str, raws: list[bytes]) -> list[bytes]:
    w3: Any = Web3(Web3.HTTPProvider(url))
    return [bytes(w3.eth.send_raw_transaction(raw)) for raw in raws]


def _rate(label: str, count: int, seconds: float) -> None:
    print(f"  {label:<44} {count:>5} tx in {seconds:6.2f} s = {count / seconds:7.1f} tx/s")


def main() -> None:
    print("devnet start (in process, to first eth_chainId, incl. deployment)")
    samples = [_time_start() for _ in range(3)]
    print(
        f"  median {statistics.median(samples):.3f} s   (runs: {', '.join(f'{s:.3f}' for s in samples)})"
    )
    print(f"  ogpu-devnet serve, fresh interpreter: {_time_cli_start():.3f} s")

    from ogpu_devnet.contracts import load_artifact

    with Devnet() as net:
        w3: Any = net.web3()
        vault = w3.eth.contract(address=net.contracts["VAULT"], abi=load_artifact("Vault")["abi"])
        keys = [a.private_key for a in net.accounts]
        sink = net.accounts[9].address
        print(f"throughput over HTTP ({net.rpc_url}), one block per transaction")

        def transfer(_: str) -> dict[str, Any]:
            return {"to": sink, "value": 1, "gas": 21000}

        def deposit(sender: str) -> dict[str, Any]:
            data = vault.encode_abi("deposit", [sender])
            return {"to": vault.address, "value": 10**12, "data": data, "gas": 120_000}

        for label, make in (("value transfers", transfer), ("Vault.deposit", deposit)):
            raws = _signed_batch(w3, keys[1], N, make)
            t0 = time.perf_counter()
            hashes = _send_all(net.rpc_url, raws)
            _rate(f"{label}, 1 client", N, time.perf_counter() - t0)
            assert w3.eth.get_transaction_receipt(hashes[-1])["status"] == 1

            per = N // 4
            batches = [_signed_batch(w3, keys[2 + t], per, make) for t in range(4)]
            threads = [threading.Thread(target=_send_all, args=(net.rpc_url, b)) for b in batches]
            t0 = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            _rate(f"{label}, 4 client threads", per * 4, time.perf_counter() - t0)

        t0 = time.perf_counter()
        calls = 300
        for _ in range(calls):
            vault.functions.balanceOf(sink).call()
        elapsed = time.perf_counter() - t0
        print(
            f"  {'eth_call Vault.balanceOf':<44} {calls:>5} calls in {elapsed:6.2f} s = {calls / elapsed:7.1f} calls/s"
        )


if __name__ == "__main__":
    main()
