"""The published ``ogpu==0.2.3`` runs a client's flow against ogpu-devnet (live-chain.md row 23).

The published SDK lives in its own venv (``bench/_published.py``, cached in ``.bench/``, no
network after the first run) and runs in a subprocess, pointed at the session devnet by
configuration only: ``ChainConfig.set_rpc``, its ``CHAIN_CONTRACTS`` table, and the pinning
URL of ``ogpu.ipfs.publish`` (0.2.3 has no public setting for it). The devnet's provider
runtime answers its tasks. Every step prints one JSON line; the test checks them all.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from ogpu.chain import ChainConfig
from ogpu.protocol import _abi

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = r"""
import json, sys, time

from ogpu.chain.config import ChainConfig, ChainId
import ogpu.ipfs.publish as ipfs_publish
from ogpu.client import (DeliveryMethod, ImageEnvironments, SourceInfo, TaskInfo, TaskInput,
                         cancel_task, get_task_responses, publish_source, publish_task)
from ogpu.protocol import Source, Task, vault

cfg = json.loads(sys.argv[1])
# configuration only: the devnet's RPC, contracts and pinning service
ChainConfig.set_chain(ChainId.OGPU_MAINNET)
ChainConfig.CHAIN_CONTRACTS[ChainId.OGPU_MAINNET] = cfg["contracts"]
ChainConfig.set_rpc(cfg["rpc_url"])
ipfs_publish._IPFS_PUBLISH_URL = cfg["publish_url"]
key, me = cfg["key"], cfg["address"]

def step(name, **values):
    print(json.dumps({"step": name, **values}), flush=True)

vault.deposit(me, 10**18, signer=key)
vault.lock(10**16, signer=key)
step("vault", balance=vault.get_balance_of(me), lockup=vault.get_lockup_of(me))

info = SourceInfo(name="compat", description="published SDK on ogpu-devnet", logoUrl="",
                  imageEnvs=ImageEnvironments(cpu="https://example.org/compose.yml"),
                  minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
                  deliveryMethod=DeliveryMethod.FIRST_RESPONSE)
source = publish_source(info, private_key=key)
step("publish_source", source=source.address, client=source.get_client())

task = publish_task(TaskInfo(source=source.address,
                             config=TaskInput(function_name="predict", data={"text": "a b c"}),
                             expiryTime=int(time.time()) + 600, payment=10**16),
                    private_key=key)
step("publish_task", task=task.address, status=task.get_status().name)

deadline = time.time() + 90
confirmed = None
while confirmed is None and time.time() < deadline:
    confirmed = task.get_confirmed_response()
    if confirmed is None:
        time.sleep(0.2)
responses = task.get_responses()
step("responses", responses=[r.address for r in responses],
     client_view=[r.address for r in get_task_responses(task.address)],
     attempters=task.get_attempters())
step("confirmed", response=confirmed.address if confirmed else None,
     data=confirmed.fetch_data() if confirmed else None)

big = Source(cfg["big_source"])
tasks = big.get_tasks()
step("big_source", count=big.get_task_count(), listed=[t.address for t in tasks],
     tail=[t.address for t in big.get_tasks(100)], window=[t.address for t in big.get_tasks(2, 4)])

quiet = publish_source(SourceInfo(name="quiet", description="nobody serves it", logoUrl="",
                                  imageEnvs=ImageEnvironments(nvidia="https://example.org/n.yml"),
                                  minPayment=10**15, minAvailableLockup=0, maxExpiryDuration=3600,
                                  deliveryMethod=DeliveryMethod.MANUAL_CONFIRMATION),
                       private_key=key)
doomed = publish_task(TaskInfo(source=quiet.address,
                               config=TaskInput(function_name="predict", data={}),
                               expiryTime=int(time.time()) + 600, payment=10**16),
                      private_key=key)
frozen_before = vault.get_frozen_payment(me)
cancel_task(doomed.address, private_key=key)
step("cancel", status=Task(doomed.address).get_status().name,
     frozen_before=frozen_before, frozen_after=vault.get_frozen_payment(me))
"""


def _published_python() -> Path:
    spec = importlib.util.spec_from_file_location("_published", ROOT / "bench" / "_published.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Path(module.published_python())


def _big_source(net: Any, n: int) -> tuple[str, list[str]]:
    """A source (NVIDIA only: the CPU providers do not serve it) with ``n`` tasks, published
    with raw transactions from devnet account 7."""
    acct = Account.from_key(net.devnet.accounts[7].private_key)
    w3 = net.w3
    nexus = ChainConfig.get_contract_address("NEXUS", net.chain)
    controller = ChainConfig.get_contract_address("CONTROLLER", net.chain)
    vault = ChainConfig.get_contract_address("VAULT", net.chain)
    params = (acct.address, "ipfs://meta", 2, 10**15, 0, 3600, False, "", 0, 0)
    nonce = w3.eth.get_transaction_count(acct.address, "pending")
    expiry = net.now() + 3000
    publish_task = _abi.fn("mainnet", "Controller", "publishTask")

    def tx(to: str, data: str, value: int, offset: int) -> dict[str, Any]:
        signed = acct.sign_transaction(
            {
                "to": to,
                "data": data,
                "value": value,
                "nonce": nonce + offset,
                "gas": 3_000_000,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 10**9,
                "chainId": int(w3.eth.chain_id),
            }
        )
        raw = "0x" + signed.raw_transaction.hex()
        return {"jsonrpc": "2.0", "id": offset, "method": "eth_sendRawTransaction", "params": [raw]}

    setup = [
        tx(nexus, _abi.fn("mainnet", "Nexus", "publishSource").encode(params), 0, 0),
        tx(vault, _abi.fn("mainnet", "Vault", "deposit").encode(acct.address), n * 10**15, 1),
    ]
    answers = requests.post(net.devnet.rpc_url, json=setup, timeout=60).json()
    assert w3.eth.wait_for_transaction_receipt(answers[0]["result"], timeout=60)["status"] == 1
    n_contract = w3.eth.contract(address=nexus, abi=ChainConfig.load_abi("Nexus", net.chain))
    count = n_contract.functions.getSourceCount().call()
    source = str(n_contract.functions.sources(count - 1).call())
    assert w3.eth.wait_for_transaction_receipt(answers[1]["result"], timeout=60)["status"] == 1
    batch = [
        tx(controller, publish_task.encode((source, f"ipfs://t{i}", expiry, 10**15)), 0, 2 + i)
        for i in range(n)
    ]
    hashes = []
    for start in range(0, n, 400):
        hashes += [
            a["result"]
            for a in requests.post(
                net.devnet.rpc_url, json=batch[start : start + 400], timeout=120
            ).json()
        ]
    assert w3.eth.wait_for_transaction_receipt(hashes[-1], timeout=120)["status"] == 1
    c = w3.eth.contract(address=source, abi=ChainConfig.load_abi("Source", net.chain))
    return source, [str(c.functions.tasks(i).call()) for i in range(n)]


def _count_words(input_data: dict[str, Any]) -> dict[str, Any]:
    return {"words": len(str(input_data.get("text", "")).split())}


@pytest.mark.slow
def test_published_sdk_flow_on_devnet(net: Any, providers: Any) -> None:
    python = _published_python()
    big_source, big_tasks = _big_source(net, 103)
    providers(_count_words)
    account = net.devnet.accounts[2]
    cfg = {
        "rpc_url": net.devnet.rpc_url,
        "contracts": {
            k: net.devnet.contracts[k] for k in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")
        },
        "publish_url": net.devnet.ipfs.publish_url,
        "key": account.private_key,
        "address": account.address,
        "big_source": big_source,
    }
    run = subprocess.run(
        [str(python), "-c", SCRIPT, json.dumps(cfg)],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        check=False,
    )
    steps = {s["step"]: s for s in map(json.loads, run.stdout.splitlines())}
    assert run.returncode == 0, run.stderr[-3000:]

    assert steps["vault"]["balance"] == 10**18 - 10**16 and steps["vault"]["lockup"] == 10**16
    assert steps["publish_source"]["client"] == account.address
    assert steps["publish_task"]["status"] == "NEW"
    responses = steps["responses"]
    assert len(responses["responses"]) == 1 == len(responses["attempters"])
    assert responses["client_view"] == responses["responses"]
    assert steps["confirmed"]["response"] == responses["responses"][0]
    assert steps["confirmed"]["data"] == {"words": 3}
    big = steps["big_source"]
    assert big["count"] == 103 and big["listed"] == big_tasks
    assert big["tail"] == big_tasks[100:] and big["window"] == big_tasks[2:4]
    cancel = steps["cancel"]
    assert cancel["status"] == "CANCELED"
    assert cancel["frozen_before"] - cancel["frozen_after"] == 10**16
