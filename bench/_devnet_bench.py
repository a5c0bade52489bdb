"""Workload 5: the py-evm devnet (default) against Hardhat's node, same SDK, same machine.

Both run as ``ogpu-devnet serve`` (``--backend hardhat`` for Hardhat's node: the stubs deployed,
the pinning service and the provider runtime beside it, the same manifest):

- start-up: from launching ``ogpu-devnet serve`` to the manifest written and a first answer to
  ``eth_chainId`` (chain, deployment of the protocol, pinning service), median of 3;
- transaction rate over HTTP from one client (web3.py's HTTPProvider): value transfers and
  ``Vault.deposit``, signed beforehand, each mined in its own block; for the devnet also the
  server's CPU time per transaction (``/proc``);
- the seed's whole flow with ``--provider`` running a handler: ``vault.deposit``,
  ``publish_source``, ``publish_task``, the provider's attempt and response,
  ``wait_for_response`` and the confirmed payload's ``fetch_data()``, median of 3 flows.

Today's numbers before this change (issue 3's note, same kind of machine, less loaded):
105 value transfers/s and 104 Vault.deposit/s over HTTP from one client.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _scenario import ServedDevnet, serve

TXS = int(os.environ.get("OGPU_BENCH_TXS", "200"))
STARTS = 3
FLOWS = 3
BASELINE = {"value transfers": 105.0, "Vault.deposit": 104.0}
HANDLER = Path(__file__).resolve().parent / "_seed_handler.py"


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tx_rates(net: ServedDevnet) -> dict[str, dict[str, float | None]]:
    from eth_account import Account
    from ogpu_devnet.contracts import load_artifact
    from web3 import Web3

    m = net.manifest
    w3: Any = Web3(Web3.HTTPProvider(m["rpc_url"]))
    vault = w3.eth.contract(address=m["contracts"]["VAULT"], abi=load_artifact("Vault")["abi"])
    sink = m["accounts"][9]["address"]
    acct = Account.from_key(m["accounts"][1]["private_key"])
    base_fee = int(w3.eth.get_block("latest")["baseFeePerGas"])

    def make(kind: str, nonce: int) -> bytes:
        if kind == "value transfers":
            tx: dict[str, Any] = {"to": sink, "value": 1, "gas": 21000}
        else:
            tx = {"to": vault.address, "value": 10**12, "gas": 120_000,
                  "data": vault.encode_abi("deposit", [acct.address])}  # fmt: skip
        tx.update(nonce=nonce, chainId=m["chain_id"], maxFeePerGas=base_fee * 4 + 10**9,
                  maxPriorityFeePerGas=10**9)  # fmt: skip
        return bytes(acct.sign_transaction(tx).raw_transaction)

    out: dict[str, dict[str, float | None]] = {}
    for kind in ("value transfers", "Vault.deposit"):
        nonce = w3.eth.get_transaction_count(acct.address)
        raws = [make(kind, nonce + i) for i in range(TXS)]
        sender: Any = Web3(Web3.HTTPProvider(m["rpc_url"]))
        cpu0 = _cpu_seconds(net.proc.pid)
        t0 = time.perf_counter()
        hashes = [sender.eth.send_raw_transaction(raw) for raw in raws]
        elapsed = time.perf_counter() - t0
        cpu1 = _cpu_seconds(net.proc.pid)
        assert w3.eth.get_transaction_receipt(hashes[-1])["status"] == 1
        out[kind] = {
            "tx_per_s": TXS / elapsed,
            # the server process's CPU per tx (for Hardhat: only the Python wrapper, so None)
            "server_cpu_ms_per_tx": None
            if cpu0 is None or cpu1 is None
            else (cpu1 - cpu0) * 1000 / TXS,
        }
    return out


def _flow(net: ServedDevnet) -> float:
    """The seed's flow once, with ogpu.client against the served network; wall seconds."""
    from ogpu.chain import ChainConfig, ChainId
    from ogpu.client import (
        DeliveryMethod,
        ImageEnvironments,
        SourceInfo,
        TaskInfo,
        TaskInput,
        publish_source,
        publish_task,
        wait_for_response,
    )
    from ogpu.protocol import chain_time, vault

    m = net.manifest
    ChainConfig.configure(
        ChainId.OGPU_DEVNET,
        rpc_url=m["rpc_url"],
        contracts=m["contracts"],
        ipfs_publish_url=m["ipfs_publish_url"],
        ipfs_gateway_url=m["ipfs_gateway_url"],
    )
    ChainConfig.set_chain(ChainId.OGPU_DEVNET)
    client = m["accounts"][1]
    t0 = time.perf_counter()
    vault.deposit(client["address"], 10**17, signer=client["private_key"])
    source = publish_source(
        SourceInfo(
            name="sentiment",
            description="word counts",
            logoUrl="",
            imageEnvs=ImageEnvironments(cpu="https://example.org/compose.yml"),
            minPayment=10**15,
            minAvailableLockup=0,
            maxExpiryDuration=3600,
            deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
        ),
        private_key=client["private_key"],
    )
    task = publish_task(
        TaskInfo(
            source=source.address,
            config=TaskInput(function_name="predict", data={"text": "good day"}),
            expiryTime=chain_time() + 600,
            payment=10**15,
        ),
        private_key=client["private_key"],
    )
    response = wait_for_response(task, timeout=120, poll_interval=0.1)
    payload = response.fetch_data()
    elapsed = time.perf_counter() - t0
    assert payload == {"words": 2}, payload
    return elapsed


def _backend(name: str) -> dict[str, Any]:
    extra = ("--backend", "hardhat") if name == "hardhat" else ()
    starts = []
    for _ in range(STARTS):
        net = serve(*extra)
        starts.append(net.started_in)
        net.stop()
    net = serve(*extra)
    try:
        rates = _tx_rates(net)
    finally:
        net.stop()
    net = serve(*extra, "--provider", f"{HANDLER}:predict")
    try:
        flows = [_flow(net) for _ in range(FLOWS)]
    finally:
        net.stop()
    return {"start_s": starts, "rates": rates, "flow_s": flows}


def run() -> dict[str, Any]:
    """Measure both backends; returns ``{"rows": [...], "raw": {...}, "markdown": [...]}``."""
    raw: dict[str, Any] = {"pyevm": _backend("pyevm")}
    try:
        from ogpu_devnet._hardhat import ensure_hardhat

        ensure_hardhat()
        raw["hardhat"] = _backend("hardhat")
    except Exception as exc:  # no Node.js here: the devnet's numbers stand alone
        raw["hardhat_error"] = f"{type(exc).__name__}: {exc}"
    ours, theirs = raw["pyevm"], raw.get("hardhat")
    rows: list[dict[str, Any]] = []

    def row(name: str, unit: str, mine: float, other: float | None, **extra: Any) -> None:
        r: dict[str, Any] = {
            "workload": "5",
            "name": name,
            "unit": unit,
            "ours": {"value" if unit != "s" else "seconds": mine},
            "theirs": {"value" if unit != "s" else "seconds": other} if other is not None else None,
            **extra,
        }
        if other:
            r["ratio"] = {"seconds" if unit == "s" else "value": mine / other}
        rows.append(r)

    med = statistics.median
    row("start-up to first answer (incl. deployment)", "s", med(ours["start_s"]),
        med(theirs["start_s"]) if theirs else None, target="none (reported)", met=None)  # fmt: skip
    flow_ratio = med(ours["flow_s"]) / med(theirs["flow_s"]) if theirs else None
    row("the seed's whole flow (publish source, task, provider response, payload)", "s",
        med(ours["flow_s"]), med(theirs["flow_s"]) if theirs else None,
        target="devnet <= Hardhat", met=None if flow_ratio is None else flow_ratio <= 1.0)  # fmt: skip
    for kind in ("value transfers", "Vault.deposit"):
        mine = float(ours["rates"][kind]["tx_per_s"])
        other = float(theirs["rates"][kind]["tx_per_s"]) if theirs else None
        row(f"{kind} per second, 1 client over HTTP", "tx/s", mine, other,
            target=f">= 2x today's {BASELINE[kind]:.0f} tx/s",
            met=mine >= 2 * BASELINE[kind],
            note=f"devnet server CPU {ours['rates'][kind]['server_cpu_ms_per_tx']:.2f} ms/tx")  # fmt: skip
    markdown = [
        "Devnet details: start-up runs "
        + ", ".join(f"{s:.2f}" for s in ours["start_s"])
        + " s; flows "
        + ", ".join(f"{s:.2f}" for s in ours["flow_s"])
        + " s; server CPU per transaction: "
        + ", ".join(f"{k} {v['server_cpu_ms_per_tx']:.2f} ms" for k, v in ours["rates"].items())
        + ".",
    ]
    if theirs:
        markdown.append(
            "Hardhat details: start-up runs "
            + ", ".join(f"{s:.2f}" for s in theirs["start_s"])
            + " s; flows "
            + ", ".join(f"{s:.2f}" for s in theirs["flow_s"])
            + " s."
        )
    else:
        markdown.append(f"Hardhat not measured: {raw['hardhat_error']}")
    return {"rows": rows, "raw": raw, "markdown": markdown}
