"""The stub protocol on a second, independent EVM: Hardhat's node (npm ``hardhat@2``).

``ogpu-devnet deploy`` installs the contracts there, then plain web3.py runs publish source,
publish task, register, attempt and submit (FIRST_RESPONSE), and reads a revert reason from
Hardhat's error shape (code -32603 with the revert data nested), which differs from geth's.
Skipped only where Node.js or npm is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from eth_account import Account
from ogpu_devnet.chain import decode_revert_reason, default_accounts
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

pytestmark = pytest.mark.slow

HARDHAT_DIR = Path(__file__).resolve().parents[1] / "hardhat"
ETHER = 10**18
CPU = 1
FIRST_RESPONSE = 1
FINALIZED = 5
CONFIRMED = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def hardhat_url() -> Iterator[str]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm not found: cannot run Hardhat's node")
    if not (HARDHAT_DIR / "node_modules" / "hardhat").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HARDHAT_DIR,
            check=True,
            timeout=900,
        )
    port = _free_port()
    proc = subprocess.Popen(
        ["npx", "hardhat", "node", "--hostname", "127.0.0.1", "--port", str(port)],
        cwd=HARDHAT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # npx starts node as a child: stop the whole group
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"hardhat node exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                answer = requests.post(
                    url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}, timeout=2
                ).json()
                if answer.get("result"):
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("hardhat node did not come up")
            time.sleep(0.2)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def deployed(hardhat_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    manifest_path = tmp_path_factory.mktemp("hardhat") / "manifest.json"
    deployer = default_accounts()[0]  # Hardhat funds the same public test mnemonic
    result = subprocess.run(
        [
            sys.executable, "-m", "ogpu_devnet", "deploy", "--rpc-url", hardhat_url,
            "--private-key-env", "OGPU_HARDHAT_DEPLOYER", "--manifest", str(manifest_path),
        ],
        env={**os.environ, "OGPU_HARDHAT_DEPLOYER": deployer.private_key},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert deployer.private_key[2:] not in result.stdout + result.stderr
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    return manifest


def _contract(w3: Any, name: str, address: str) -> Any:
    from ogpu_devnet.contracts import load_artifact

    return w3.eth.contract(
        address=Web3.to_checksum_address(address), abi=load_artifact(name)["abi"]
    )


def _send(w3: Any, account: Any, fn: Any, value: int = 0) -> Any:
    acct = Account.from_key(account.private_key)
    tx = fn.build_transaction(
        {"from": acct.address, "value": value, "nonce": w3.eth.get_transaction_count(acct.address)}
    )
    tx_hash = w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt.status == 1
    return receipt


def test_protocol_path_on_hardhat(hardhat_url: str, deployed: dict[str, Any]) -> None:
    w3: Any = Web3(Web3.HTTPProvider(hardhat_url))
    assert deployed["chain_id"] == w3.eth.chain_id == 31337
    contracts = deployed["contracts"]
    nexus = _contract(w3, "Nexus", contracts["NEXUS"])
    controller = _contract(w3, "Controller", contracts["CONTROLLER"])
    vault = _contract(w3, "Vault", contracts["VAULT"])
    accounts = default_accounts()
    client, provider = accounts[1], accounts[2]

    _send(w3, client, vault.functions.deposit(client.address), value=ETHER)
    _send(w3, provider, vault.functions.deposit(provider.address), value=ETHER // 10)
    _send(w3, provider, vault.functions.lock(ETHER // 10))
    source_params = (
        client.address,
        "ipfs://meta",
        CPU,
        10**15,
        0,
        3600,
        False,
        "",
        FIRST_RESPONSE,
        0,
    )
    receipt = _send(w3, client, nexus.functions.publishSource(source_params))
    (published,) = nexus.events.SourcePublished().process_receipt(receipt, errors=DISCARD)
    source = published.args.source
    _send(w3, provider, nexus.functions.register(source, provider.address, CPU))

    now = w3.eth.get_block("latest")["timestamp"]
    payment = 10**16
    receipt = _send(
        w3, client, controller.functions.publishTask((source, "ipfs://cfg", now + 600, payment))
    )
    (task_event,) = nexus.events.TaskPublished().process_receipt(receipt, errors=DISCARD)
    task_address = task_event.args.task
    _send(w3, provider, nexus.functions.attempt(task_address, provider.address, payment))
    earned_before = vault.functions.balanceOf(provider.address).call()
    receipt = _send(
        w3,
        provider,
        nexus.functions.submitResponse((task_address, provider.address, "ipfs://out", payment)),
    )
    (submitted,) = nexus.events.ResponseSubmitted().process_receipt(receipt, errors=DISCARD)

    task = _contract(w3, "Task", task_address)
    response = _contract(w3, "Response", submitted.args.response)
    assert task.functions.getStatus().call() == FINALIZED
    assert task.functions.winningProvider().call() == provider.address
    assert response.functions.getStatus().call() == CONFIRMED
    assert vault.functions.balanceOf(provider.address).call() == earned_before + payment
    assert vault.functions.frozenPayment(client.address).call() == 0


def test_revert_reason_is_readable_from_hardhat(hardhat_url: str, deployed: dict[str, Any]) -> None:
    w3: Any = Web3(Web3.HTTPProvider(hardhat_url))
    vault = _contract(w3, "Vault", deployed["contracts"]["VAULT"])
    outsider = default_accounts()[5].address
    # through web3.py: ContractLogicError carrying the reason
    with pytest.raises(ContractLogicError) as info:
        vault.functions.withdraw(10**30).call({"from": outsider})
    assert "InsufficientBalance" in str(info.value)

    # on the wire: Hardhat's own shape, revert data nested under error.data
    call = {"from": outsider, "to": vault.address, "data": vault.encode_abi("withdraw", [10**30])}
    answer = requests.post(
        hardhat_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [call, "latest"]},
        timeout=10,
    ).json()
    error = answer["error"]
    assert error["code"] != 3  # unlike geth/anvil/the devnet
    nested = error["data"]["data"] if isinstance(error.get("data"), dict) else error["data"]
    assert decode_revert_reason(bytes.fromhex(nested[2:])) == "InsufficientBalance"


def test_conformance_probe_against_hardhat(hardhat_url: str, deployed: dict[str, Any]) -> None:
    """``ogpu-devnet conformance`` on Hardhat running the stubs: every row agrees except the
    error shape of a failing eth_call (Hardhat: code -32603, revert data nested; row 22)."""
    from ogpu_devnet.cli.conformance import AGREES, DIFFERS, probe

    w3: Any = Web3(Web3.HTTPProvider(hardhat_url))
    contracts = deployed["contracts"]
    nexus = _contract(w3, "Nexus", contracts["NEXUS"])
    controller = _contract(w3, "Controller", contracts["CONTROLLER"])
    vault = _contract(w3, "Vault", contracts["VAULT"])
    client = default_accounts()[3]
    _send(w3, client, vault.functions.deposit(client.address), value=ETHER)
    params = (client.address, "ipfs://m", CPU, 10**15, 0, 3600, False, "", FIRST_RESPONSE, 0)
    receipt = _send(w3, client, nexus.functions.publishSource(params))
    (published,) = nexus.events.SourcePublished().process_receipt(receipt, errors=DISCARD)
    source = published.args.source
    now = w3.eth.get_block("latest")["timestamp"]
    tasks = []
    for _ in range(2):
        receipt = _send(
            w3, client, controller.functions.publishTask((source, "ipfs://c", now + 600, 10**15))
        )
        (event,) = nexus.events.TaskPublished().process_receipt(receipt, errors=DISCARD)
        tasks.append(event.args.task)

    verdicts = probe(hardhat_url, source=source, task=tasks[0], nexus=contracts["NEXUS"])
    differs = {v.row for v in verdicts if v.verdict == DIFFERS}
    assert differs == {22}, [v for v in verdicts if v.verdict == DIFFERS]
    agreed = {v.row for v in verdicts if v.verdict == AGREES}
    assert {1, 2, 4, 5, 7, 12, 21} <= agreed, sorted(agreed)
    shape = next(v for v in verdicts if v.row == 22)
    assert "-32603" in shape.detail
