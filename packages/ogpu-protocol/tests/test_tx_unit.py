"""Unit tests of the executor's pure logic: node-error classification, errors naming the signed
transaction, and receipt-event extraction that only trusts the Nexus."""

from __future__ import annotations

import pickle

import pytest
from eth_abi import encode
from ogpu.chain import ChainConfig, ChainId
from ogpu.chain.tx import _classify
from ogpu.protocol import _abi, controller, nexus
from ogpu.types import (
    GasError,
    NonceError,
    Receipt,
    TaskExpiredError,
    TxReceiptTimeoutError,
    TxRpcError,
    ValidationError,
)

TX_HASH = "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        # permanent: never re-sent
        (-32000, "exceeds block gas limit", "gas"),
        (-32000, "gas limit reached", "gas"),
        (-32000, "intrinsic gas too low", "gas"),
        (-32000, "tx fee (2.00 ether) exceeds the configured cap (1.00 ether)", "gas"),
        (-32000, "insufficient funds for gas * price + value", "funds"),
        (-32000, "invalid sender", "fatal"),
        (-32000, "invalid chain id for signer", "fatal"),
        (-32000, "only replay-protected (EIP-155) transactions allowed over RPC", "fatal"),
        (-32602, "invalid argument 0: json: cannot unmarshal", "fatal"),
        (-32603, "internal error", "fatal"),
        # transient: the same bytes are re-sent
        (-32000, "header not found", "transient"),
        (-32000, "request timed out", "transient"),
        (-32000, "server busy, try again later", "transient"),
        (-32005, "request rate limit exceeded", "transient"),
        (-32005, "limit exceeded", "transient"),
        (429, "Too Many Requests", "transient"),
        (503, "Service Unavailable", "transient"),
        (502, "upstream failure", "transient"),
        # nonce and pricing
        (-32000, "already known", "known"),
        (-32000, "nonce too low: next nonce 5, tx nonce 4", "nonce_low"),
        (-32000, "nonce too high", "nonce_high"),
        (-32000, "replacement transaction underpriced", "replacement"),
        (-32000, "transaction underpriced", "underpriced"),
        (-32000, "max fee per gas less than block base fee", "underpriced"),
        (3, "execution reverted: NotOwner", "revert"),
    ],
)
def test_node_errors_are_classified_precisely(code: int, message: str, kind: str) -> None:
    assert _classify(TxRpcError(message, code)) == kind


@pytest.mark.parametrize(
    "error",
    [
        TxRpcError("RPC went away", -32000),
        GasError("gas limit reached"),
        NonceError("0x" + "11" * 20, 7, 7),
        TaskExpiredError("0x" + "22" * 20, 123),
    ],
)
def test_attached_transaction_is_in_fields_message_and_pickle(error: Exception) -> None:
    error.attach_transaction(TX_HASH, 7)  # type: ignore[attr-defined]
    assert error.tx_hash == TX_HASH and error.nonce == 7  # type: ignore[attr-defined]
    assert TX_HASH in str(error) and "nonce 7" in str(error)
    clone = pickle.loads(pickle.dumps(error))
    assert str(clone) == str(error)
    assert clone.tx_hash == TX_HASH and clone.nonce == 7


def test_errors_before_signing_name_no_transaction() -> None:
    error = TxRpcError("nope", -32000)
    assert error.tx_hash is None and error.nonce is None
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_receipt_timeout_keeps_its_hash_and_adds_the_nonce() -> None:
    error = TxReceiptTimeoutError(TX_HASH, 1.5)
    error.attach_transaction("0x" + "cd" * 32, 3)
    assert error.tx_hash == TX_HASH and error.nonce == 3
    assert str(error).count(TX_HASH) == 1 and "nonce 3" in str(error)
    clone = pickle.loads(pickle.dumps(error))
    assert str(clone) == str(error) and clone.timeout == 1.5


# --------------------------------------------------------------------------- receipt events

DEV = ChainId.OGPU_DEVNET
FORGER = "0x" + "de" * 20
FORGED_SOURCE = "0x" + "66" * 20
REAL_SOURCE = "0x" + "77" * 20


def _log(emitter: str, event: str, *addresses: str) -> dict[str, object]:
    ev = _abi.event(ChainConfig.get_abi_set(DEV), "Nexus", event)
    data = encode(["address"] * len(addresses), list(addresses))
    return {"address": emitter, "topics": [ev.topic0], "data": "0x" + data.hex()}


def _receipt(*logs: dict[str, object]) -> Receipt:
    return Receipt(tx_hash=TX_HASH, block_number=1, gas_used=1, status=1, logs=list(logs))


def test_source_address_only_from_the_nexus_event() -> None:
    nexus_address = ChainConfig.get_contract_address("NEXUS", DEV)
    receipt = _receipt(
        _log(FORGER, "SourcePublished", FORGED_SOURCE),
        _log(nexus_address.lower(), "SourcePublished", REAL_SOURCE),
        _log(FORGER, "SourcePublished", FORGED_SOURCE),
    )
    assert nexus.extract_source_address(receipt, chain=DEV).lower() == REAL_SOURCE


def test_task_address_only_from_the_nexus_event() -> None:
    nexus_address = ChainConfig.get_contract_address("NEXUS", DEV)
    real_task, forged_task = "0x" + "88" * 20, "0x" + "99" * 20
    receipt = _receipt(
        _log(FORGER, "TaskPublished", forged_task, FORGED_SOURCE),
        _log(nexus_address, "TaskPublished", real_task, REAL_SOURCE),
    )
    assert controller.extract_task_address(receipt, chain=DEV).lower() == real_task


@pytest.mark.parametrize(
    ("extract", "event"),
    [
        (nexus.extract_source_address, "SourcePublished"),
        (controller.extract_task_address, "TaskPublished"),
    ],
)
def test_a_forged_event_alone_is_rejected(extract: object, event: str) -> None:
    addresses = [FORGED_SOURCE] if event == "SourcePublished" else [FORGED_SOURCE, REAL_SOURCE]
    receipt = _receipt(_log(FORGER, event, *addresses))
    with pytest.raises(ValidationError, match=event):
        extract(receipt, chain=DEV)  # type: ignore[operator]
