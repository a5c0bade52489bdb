"""The py-evm boundary: only ``ogpu_devnet._evm`` imports py-evm, eth-tester or ``rlp``, and what
the chain hands out are the frozen records of ``ogpu_devnet._records``."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from eth_account import Account
from ogpu_devnet._records import BlockRecord, HeaderRecord, ReceiptRecord, TxRecord
from ogpu_devnet.chain import DevnetChain, default_accounts

PACKAGE = Path(__import__("ogpu_devnet").__file__).resolve().parent
FORBIDDEN = ("eth", "eth_tester", "rlp")


def _forbidden_imports(path: Path) -> list[str]:
    """``module:line name`` for every import of py-evm, eth-tester or rlp in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            if name.split(".")[0] in FORBIDDEN:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {name}")
    return found


def test_only_the_evm_package_imports_py_evm() -> None:
    outside = [p for p in PACKAGE.rglob("*.py") if "_evm" not in p.relative_to(PACKAGE).parts]
    inside = list((PACKAGE / "_evm").glob("*.py"))
    assert len(outside) > 20 and inside
    assert [hit for path in outside for hit in _forbidden_imports(path)] == []
    # the check sees imports: the engine itself is full of them
    assert any(_forbidden_imports(path) for path in inside)


@pytest.fixture(scope="module")
def chain() -> DevnetChain:
    return DevnetChain()


def _transfer(chain: DevnetChain, nonce: int, **fees: int) -> bytes:
    sender, receiver = default_accounts(2)
    tx = {"to": receiver.address, "value": 1, "gas": 21000, "nonce": nonce,
          "chainId": chain.chain_id, **fees}  # fmt: skip
    return chain.send_raw_transaction(
        bytes(Account.from_key(sender.private_key).sign_transaction(tx).raw_transaction)
    )


def test_the_chain_hands_out_frozen_records(chain: DevnetChain) -> None:
    tx_hash = _transfer(chain, 0, maxFeePerGas=10**10, maxPriorityFeePerGas=10**9)
    legacy_hash = _transfer(chain, 1, gasPrice=10**10)
    found = chain.find_transaction(tx_hash)
    assert found is not None
    block, tx, index = found
    assert type(block) is BlockRecord and type(block.header) is HeaderRecord
    assert type(tx) is TxRecord and block.transactions == (tx,) and index == 0
    assert tx.hash == tx_hash and tx.type_id == 2 and tx.gas_price is None
    assert tx.sender == bytes.fromhex(default_accounts(1)[0].address[2:])
    (receipt,) = chain.receipts(block)
    assert type(receipt) is ReceiptRecord and receipt.status == 1 and receipt.gas_used == 21000
    legacy = chain.find_transaction(legacy_hash)
    assert legacy is not None and legacy[1].type_id == 0
    assert legacy[1].gas_price == legacy[1].max_fee_per_gas == 10**10
    assert legacy[1].chain_id == chain.chain_id
    assert type(chain.head()) is HeaderRecord and chain.head().number == chain.block_number()
    assert chain.block_by_number(block.number) == block == chain.block_by_hash(block.hash)
    assert block.size > 500 and chain.pending_block().transactions == ()
    for record in (block, block.header, tx, receipt):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, dataclasses.fields(record)[0].name, None)
        assert not hasattr(record, "__dict__")
