"""The public log and clock helpers: ``event_topic``, ``decode_event``, ``chain_time``."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from ogpu.chain import ChainConfig, ChainId
from ogpu.protocol import chain_time, decode_event, event_topic, nexus
from ogpu.types import TaskStatus, TxRpcError, ValidationError

DEV = ChainId.OGPU_DEVNET
TASK = "0x" + "ab" * 20
SOURCE = "0x" + "cd" * 20


def _task_published(task: str = TASK, source: str = SOURCE) -> dict[str, Any]:
    data = encode(["address", "address"], [task, source])
    return {"topics": [event_topic("TaskPublished", chain=DEV)], "data": "0x" + data.hex()}


def test_event_topic_is_the_signature_hash() -> None:
    expected = "0x" + keccak(text="TaskPublished(address,address)").hex()
    assert event_topic("TaskPublished", chain=DEV) == expected
    assert event_topic("Deposited", contract="Vault", chain=DEV).startswith("0x")


def test_decode_event_returns_checksummed_fields() -> None:
    fields = decode_event("TaskPublished", _task_published(), chain=DEV)
    assert fields == {"task": to_checksum_address(TASK), "source": to_checksum_address(SOURCE)}


def test_decode_event_accepts_web3_bytes() -> None:
    log = _task_published()
    as_bytes = {"topics": [HexBytes(t) for t in log["topics"]], "data": HexBytes(log["data"])}
    assert decode_event("TaskPublished", as_bytes, chain=DEV) == decode_event(
        "TaskPublished", log, chain=DEV
    )


def test_decode_event_ignores_other_events() -> None:
    assert decode_event("SourcePublished", _task_published(), chain=DEV) is None
    assert decode_event("TaskPublished", {"topics": [], "data": "0x"}, chain=DEV) is None


def test_decode_event_typed_errors() -> None:
    with pytest.raises(ValidationError, match="NoSuchEvent"):
        decode_event("NoSuchEvent", _task_published(), chain=DEV)
    short = {"topics": [event_topic("TaskPublished", chain=DEV)], "data": "0x1234"}
    with pytest.raises(ValidationError, match="TaskPublished"):
        decode_event("TaskPublished", short, chain=DEV)


def test_decode_event_reads_a_real_receipt(net: Any) -> None:
    receipt = nexus.publish_source(net.source_params(), signer=net.client.private_key)
    decoded = [decode_event("SourcePublished", log) for log in receipt.logs]
    sources = [d["source"] for d in decoded if d is not None]
    assert sources == [nexus.extract_source_address(receipt)]


def test_chain_time_follows_the_chain_clock(net: Any) -> None:
    w3 = ChainConfig.get_web3()
    assert chain_time() == w3.eth.get_block("latest")["timestamp"]
    before = chain_time(DEV)
    net.increase_time(3600)
    assert chain_time(DEV) >= before + 3600
    task = net.full_task()[1]
    assert task.get_status() == TaskStatus.NEW
    assert task.get_expiry_time() > chain_time()


def test_chain_time_unreachable_node_is_typed() -> None:
    ChainConfig.configure(DEV, rpc_url="http://127.0.0.1:9")  # nothing listens on port 9
    try:
        with pytest.raises(TxRpcError):
            chain_time(DEV)
    finally:
        ChainConfig.reset_rpc(DEV)
