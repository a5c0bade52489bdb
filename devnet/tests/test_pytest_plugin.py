"""The pytest plugin, as users get it: registered by entry point, run in a separate pytest."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

USER_TESTS = """
from eth_account import Account

from ogpu_devnet import DEFAULT_CONTRACTS


def _transfer(w3, account):
    acct = Account.from_key(account.private_key)
    tx = {
        "to": "0x" + "22" * 20, "value": 1, "gas": 21000, "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 10**9, "chainId": w3.eth.chain_id,
        "nonce": w3.eth.get_transaction_count(acct.address),
    }
    return w3.eth.send_raw_transaction(acct.sign_transaction(tx).raw_transaction)


def test_first_changes_state(devnet_isolated, devnet_w3, devnet_accounts):
    assert devnet_isolated.rpc_url.startswith("http://127.0.0.1:")
    _transfer(devnet_w3, devnet_accounts[1])
    devnet_w3.provider.make_request("evm_increaseTime", [10**6])
    assert devnet_w3.eth.get_transaction_count(devnet_accounts[1].address) == 1
    devnet_w3.provider.make_request("evm_setAutomine", [False])
    _transfer(devnet_w3, devnet_accounts[2])  # left waiting in the pool


def test_second_sees_clean_state(devnet_isolated, devnet_w3, devnet_accounts):
    assert devnet_w3.eth.get_transaction_count(devnet_accounts[1].address) == 0
    assert devnet_w3.provider.make_request("anvil_getAutomine", [])["result"] is True
    assert devnet_w3.eth.get_transaction_count(devnet_accounts[2].address, "pending") == 0
    devnet_w3.provider.make_request("evm_mine", [])
    latest = devnet_w3.eth.get_block("latest")
    assert latest.timestamp < devnet_w3.eth.get_block(1).timestamp + 10**5


def test_same_session_devnet(devnet, devnet_w3):
    assert devnet.contracts == DEFAULT_CONTRACTS
    assert devnet_w3.eth.chain_id == 31071
"""


def test_plugin_fixtures_in_a_user_project(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, ogpu_devnet.pytest_plugin, ogpu_devnet; "
        "heavy = [m for m in ('eth', 'web3', 'eth_tester', 'ogpu_devnet.chain') if m in sys.modules]; "
        "print(heavy); sys.exit(1 if heavy else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
