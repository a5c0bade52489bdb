"""JSON-RPC conformance of the devnet node, driven with plain web3.py over HTTP.

Every method web3.py uses is exercised against the session devnet; a tiny contract compiled
inline with Vyper provides storage, events and every flavour of revert.
"""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account
from web3.exceptions import BlockNotFound, ContractLogicError, Web3RPCError

pytestmark = pytest.mark.usefixtures("devnet_isolated")

ANVIL_ADDRESSES = [
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
]

PROBE_SOURCE = """
# pragma version ^0.4.0
value: public(uint256)

event Stored:
    who: indexed(address)
    value: uint256

@external
def store(v: uint256):
    assert v != 13, "unlucky number"
    self.value = v
    log Stored(who=msg.sender, value=v)

@external
@view
def fail_with_reason() -> uint256:
    raise "always fails"

@external
@view
def fail_bare() -> uint256:
    assert self.value == 12345
    return 0

@external
@view
def fail_custom() -> uint256:
    raw_revert(b"\\x12\\x34\\x56\\x78")

@external
@view
def now() -> uint256:
    return block.timestamp
"""


@pytest.fixture(scope="module")
def probe_artifact() -> dict[str, Any]:
    vyper = pytest.importorskip("vyper", reason="the probe contract is compiled with vyper")
    out: dict[str, Any] = vyper.compile_code(PROBE_SOURCE, output_formats=["abi", "bytecode"])
    return out


def _send(w3: Any, account: Any, tx: dict[str, Any]) -> Any:
    acct = Account.from_key(account.private_key)
    tx = dict(tx)
    tx.setdefault("from", acct.address)
    tx.setdefault("chainId", w3.eth.chain_id)
    tx.setdefault("nonce", w3.eth.get_transaction_count(acct.address, "pending"))
    tx.setdefault("maxFeePerGas", 10 * 10**9)
    tx.setdefault("maxPriorityFeePerGas", 10**9)
    if "gas" not in tx:
        tx["gas"] = w3.eth.estimate_gas(tx)  # type: ignore[arg-type]
    tx.pop("from")
    signed = acct.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10, poll_latency=0.01)


@pytest.fixture
def probe(devnet_w3: Any, devnet_accounts: list[Any], probe_artifact: dict[str, Any]) -> Any:
    factory = devnet_w3.eth.contract(abi=probe_artifact["abi"], bytecode=probe_artifact["bytecode"])
    deployer = devnet_accounts[9]
    receipt = _send(devnet_w3, deployer, {"data": factory.constructor().data_in_transaction})
    assert receipt.status == 1
    return devnet_w3.eth.contract(address=receipt.contractAddress, abi=probe_artifact["abi"])


def _store(w3: Any, probe: Any, account: Any, value: int) -> Any:
    data = probe.functions.store(value).build_transaction({"from": account.address})["data"]
    return _send(w3, account, {"to": probe.address, "data": data})


# ----------------------------------------------------------------------------- identity


def test_identity_methods(devnet_w3: Any) -> None:
    assert devnet_w3.eth.chain_id == 31071
    assert devnet_w3.net.version == "31071"
    assert devnet_w3.client_version.startswith("ogpu-devnet/")
    assert devnet_w3.eth.syncing is False
    assert devnet_w3.eth.accounts == ANVIL_ADDRESSES
    assert devnet_w3.is_connected()


def test_funded_accounts_are_anvils(devnet_accounts: list[Any], devnet_w3: Any) -> None:
    assert [a.address for a in devnet_accounts] == ANVIL_ADDRESSES
    for acct in devnet_accounts:
        assert Account.from_key(acct.private_key).address == acct.address
        assert acct.private_key not in repr(acct)
    # account 8 is never used by the fixtures or the protocol tests
    assert devnet_w3.eth.get_balance(ANVIL_ADDRESSES[8], "earliest") == 10_000 * 10**18


# ----------------------------------------------------------------------------- blocks


def test_block_tags_and_lookups(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    receipt = _send(devnet_w3, devnet_accounts[1], {"to": ANVIL_ADDRESSES[2], "value": 5})
    latest = devnet_w3.eth.get_block("latest", full_transactions=True)
    assert latest.number == receipt.blockNumber == devnet_w3.eth.block_number
    assert latest.hash == receipt.blockHash
    assert devnet_w3.eth.get_block("safe").number == latest.number
    assert devnet_w3.eth.get_block("finalized").number == latest.number
    assert devnet_w3.eth.get_block("earliest").number == 0
    (tx,) = latest.transactions  # auto-mine: one transaction per block
    assert tx["hash"] == receipt.transactionHash
    assert tx["from"] == ANVIL_ADDRESSES[1] and tx["to"] == ANVIL_ADDRESSES[2]
    assert tx["blockNumber"] == latest.number and tx["transactionIndex"] == 0

    by_hash = devnet_w3.eth.get_block(latest.hash)
    assert by_hash.transactions == [receipt.transactionHash]
    assert by_hash.parentHash == devnet_w3.eth.get_block(latest.number - 1).hash

    pending = devnet_w3.eth.get_block("pending")
    assert pending.number == latest.number + 1
    assert pending.transactions == []
    assert pending.timestamp > latest.timestamp

    with pytest.raises(BlockNotFound):
        devnet_w3.eth.get_block(latest.number + 5)
    with pytest.raises(BlockNotFound):
        devnet_w3.eth.get_block(b"\x11" * 32)
    assert devnet_w3.eth.get_block_transaction_count(latest.number) == 1
    assert devnet_w3.eth.get_transaction_by_block(latest.number, 0)["hash"] == tx["hash"]


# ----------------------------------------------------------------------------- state


def test_state_reads_with_block_identifiers(
    devnet_w3: Any, devnet_accounts: list[Any], probe: Any
) -> None:
    user = devnet_accounts[1]
    first = _store(devnet_w3, probe, user, 7)
    second = _store(devnet_w3, probe, user, 8)
    assert probe.functions.value().call() == 8
    assert probe.functions.value().call(block_identifier=first.blockNumber) == 7
    assert probe.functions.value().call(block_identifier="pending") == 8
    assert devnet_w3.eth.get_storage_at(probe.address, 0) == (8).to_bytes(32, "big")
    old = devnet_w3.eth.get_storage_at(probe.address, 0, block_identifier=first.blockNumber)
    assert old == (7).to_bytes(32, "big")
    assert len(devnet_w3.eth.get_code(probe.address)) > 0
    assert devnet_w3.eth.get_code(probe.address, first.blockNumber - 2) == b""

    nonce = devnet_w3.eth.get_transaction_count(user.address)
    assert devnet_w3.eth.get_transaction_count(user.address, "pending") == nonce
    assert devnet_w3.eth.get_transaction_count(user.address, first.blockNumber) == nonce - 1

    before = devnet_w3.eth.get_balance(user.address, first.blockNumber)
    after = devnet_w3.eth.get_balance(user.address, second.blockNumber)
    assert before - after == second.gasUsed * second.effectiveGasPrice
    # EIP-1898 block identifier by hash
    by_hash = devnet_w3.eth.get_balance(user.address, {"blockHash": first.blockHash})  # type: ignore[arg-type]
    assert by_hash == before


def test_fee_methods(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    _send(devnet_w3, devnet_accounts[1], {"to": ANVIL_ADDRESSES[3], "value": 1})
    base_fee = devnet_w3.eth.get_block("pending").baseFeePerGas
    assert devnet_w3.eth.max_priority_fee == 10**9
    assert devnet_w3.eth.gas_price == base_fee + 10**9
    history = devnet_w3.eth.fee_history(3, "latest", [10, 90])
    latest = devnet_w3.eth.block_number
    assert history.oldestBlock == latest - 2
    assert len(history.baseFeePerGas) == 4 and history.baseFeePerGas[-1] == base_fee
    assert len(history.gasUsedRatio) == 3 and all(0 <= r <= 1 for r in history.gasUsedRatio)
    assert history.reward[-1] == [10**9, 10**9]  # the transfer's tip


# ----------------------------------------------------------------------------- transactions


def test_transfer_transaction_and_receipt(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    sender, receiver = devnet_accounts[1], devnet_accounts[2]
    gas = devnet_w3.eth.estimate_gas({"from": sender.address, "to": receiver.address, "value": 1})
    assert gas == 21000
    start = devnet_w3.eth.get_balance(receiver.address)
    receipt = _send(devnet_w3, sender, {"to": receiver.address, "value": 10**18, "gas": gas})
    assert receipt.status == 1 and receipt.gasUsed == 21000
    assert receipt["from"] == sender.address and receipt.to == receiver.address
    assert receipt.contractAddress is None and receipt.logs == []
    assert devnet_w3.eth.get_balance(receiver.address) == start + 10**18

    tx = devnet_w3.eth.get_transaction(receipt.transactionHash)
    assert tx["value"] == 10**18 and tx["gas"] == 21000 and tx["chainId"] == 31071
    assert tx["type"] == 2 and tx["maxPriorityFeePerGas"] == 10**9
    assert tx["gasPrice"] == receipt.effectiveGasPrice
    assert tx["blockHash"] == receipt.blockHash
    with pytest.raises(Exception, match="not found"):
        devnet_w3.eth.get_transaction_receipt(b"\x01" * 32)


def test_legacy_and_server_signed_transactions(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    sender = devnet_accounts[3]
    acct = Account.from_key(sender.private_key)
    legacy = {
        "to": ANVIL_ADDRESSES[4],
        "value": 3,
        "gas": 21000,
        "gasPrice": devnet_w3.eth.gas_price,
        "nonce": devnet_w3.eth.get_transaction_count(sender.address),
        "chainId": 31071,
    }
    tx_hash = devnet_w3.eth.send_raw_transaction(acct.sign_transaction(legacy).raw_transaction)
    tx = devnet_w3.eth.get_transaction(tx_hash)
    assert tx["type"] == 0 and tx["chainId"] == 31071
    assert devnet_w3.eth.get_transaction_receipt(tx_hash).status == 1

    # eth_sendTransaction: the node signs for its funded accounts, like anvil
    tx_hash = devnet_w3.eth.send_transaction(
        {"from": sender.address, "to": ANVIL_ADDRESSES[4], "value": 4}
    )
    assert devnet_w3.eth.get_transaction(tx_hash)["from"] == sender.address
    with pytest.raises(Web3RPCError, match="unknown account"):
        devnet_w3.eth.send_transaction({"from": "0x" + "12" * 20, "to": ANVIL_ADDRESSES[4]})


def test_contract_deploy_receipt_and_logs(
    devnet_w3: Any, devnet_accounts: list[Any], probe: Any
) -> None:
    deploy_tx = devnet_w3.eth.get_block(devnet_w3.eth.block_number).transactions[0]
    receipt = devnet_w3.eth.get_transaction_receipt(deploy_tx)
    assert receipt.contractAddress == probe.address and receipt.to is None
    user = devnet_accounts[1]
    stored = _store(devnet_w3, probe, user, 42)
    (log,) = stored.logs
    assert log.address == probe.address and log.logIndex == 0 and log.transactionIndex == 0
    (event,) = probe.events.Stored().process_receipt(stored)
    assert event.args.who == user.address and event.args.value == 42

    logs = devnet_w3.eth.get_logs({"address": probe.address, "fromBlock": 0, "toBlock": "latest"})
    assert [entry.transactionHash for entry in logs] == [stored.transactionHash]
    by_hash = devnet_w3.eth.get_logs({"blockHash": stored.blockHash})
    assert by_hash == logs
    topic_user = "0x" + bytes(12).hex() + user.address[2:].lower()
    other = "0x" + bytes(12).hex() + ANVIL_ADDRESSES[5][2:].lower()
    sig = log.topics[0]
    assert len(devnet_w3.eth.get_logs({"fromBlock": 0, "topics": [sig, topic_user]})) == 1
    assert devnet_w3.eth.get_logs({"fromBlock": 0, "topics": [sig, other]}) == []
    assert len(devnet_w3.eth.get_logs({"fromBlock": 0, "topics": [None, [other, topic_user]]})) == 1


# ----------------------------------------------------------------------------- reverts


def test_reverts_raise_contract_logic_error_with_reason(
    devnet_w3: Any, devnet_accounts: list[Any], probe: Any
) -> None:
    user = devnet_accounts[1]
    with pytest.raises(ContractLogicError) as info:
        probe.functions.fail_with_reason().call()
    assert info.value.message == "execution reverted: always fails"
    assert str(info.value.data).startswith("0x08c379a0")

    with pytest.raises(ContractLogicError, match="execution reverted: unlucky number"):
        probe.functions.store(13).call({"from": user.address})
    # build_transaction estimates gas first: same error
    with pytest.raises(ContractLogicError, match="unlucky number"):
        probe.functions.store(13).build_transaction({"from": user.address})
    with pytest.raises(ContractLogicError, match="unlucky number"):
        devnet_w3.eth.estimate_gas(
            {"from": user.address, "to": probe.address, "data": probe.encode_abi("store", [13])}
        )

    with pytest.raises(ContractLogicError) as bare:
        probe.functions.fail_bare().call()
    assert bare.value.message == "execution reverted"

    with pytest.raises(ContractLogicError) as custom:
        probe.functions.fail_custom().call()
    assert custom.value.data == "0x12345678"


def test_reverting_transaction_is_mined_with_status_zero(
    devnet_w3: Any, devnet_accounts: list[Any], probe: Any
) -> None:
    user = devnet_accounts[1]
    receipt = _send(
        devnet_w3,
        user,
        {"to": probe.address, "data": probe.encode_abi("store", [13]), "gas": 100_000},
    )
    assert receipt.status == 0
    assert receipt.logs == []
    assert probe.functions.value().call() == 0


def test_rejected_transactions(devnet_w3: Any, devnet_accounts: list[Any]) -> None:
    sender = devnet_accounts[1]
    acct = Account.from_key(sender.private_key)
    nonce = devnet_w3.eth.get_transaction_count(sender.address)
    base = {
        "to": ANVIL_ADDRESSES[2],
        "value": 1,
        "gas": 21000,
        "maxFeePerGas": 10 * 10**9,
        "maxPriorityFeePerGas": 10**9,
        "nonce": nonce,
    }
    # replay protection: a transaction signed for another chain id is refused
    for other_chain in (1, 1071):
        raw = acct.sign_transaction({**base, "chainId": other_chain}).raw_transaction
        with pytest.raises(Web3RPCError, match="chain id"):
            devnet_w3.eth.send_raw_transaction(raw)
    legacy = {"to": base["to"], "value": 1, "gas": 21000, "gasPrice": 10**10, "nonce": nonce}
    raw = acct.sign_transaction({**legacy, "chainId": 1}).raw_transaction
    with pytest.raises(Web3RPCError, match="chain id"):
        devnet_w3.eth.send_raw_transaction(raw)

    good = acct.sign_transaction({**base, "chainId": 31071}).raw_transaction
    devnet_w3.eth.send_raw_transaction(good)
    with pytest.raises(Web3RPCError, match="nonce too low"):
        devnet_w3.eth.send_raw_transaction(good)  # same nonce again
    # a nonce gap is queued until it fills, as in geth: test_rpc_queued_nonces.py
    poor = Account.create()
    raw = poor.sign_transaction({**base, "nonce": 0, "chainId": 31071}).raw_transaction
    with pytest.raises(Web3RPCError, match="insufficient funds"):
        devnet_w3.eth.send_raw_transaction(raw)
    assert devnet_w3.eth.get_transaction_count(sender.address) == nonce + 1
