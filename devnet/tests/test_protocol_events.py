"""Protocol events reach web3.py log filters exactly once (plain web3.py over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.usefixtures("backend_isolated")

Protocol = Any  # conftest.Protocol
World = Any  # conftest.World


def _key(log: Any) -> tuple[str, int]:
    return (log["transactionHash"].hex(), int(log["logIndex"]))


@pytest.mark.pyevm_only(
    reason="Hardhat's eth_newFilter also delivers the logs of the block that is the head when "
    "the filter is created (the devnet, like geth, starts after it), so the counts differ"
)
def test_nexus_filter_delivers_each_protocol_log_once(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    log_filter = proto.w3.eth.filter({"address": proto.nexus.address})
    receipts = []
    task = proto.publish_task(w.src_first, w.client)
    receipts.append(proto.attempt(task, w.provider, suggested=7))
    first = log_filter.get_new_entries()
    _, receipt = proto.submit(task, w.provider, "ipfs://events", 1)
    receipts.append(receipt)
    second = log_filter.get_new_entries()
    assert log_filter.get_new_entries() == []

    delivered = [_key(log) for log in first + second]
    assert len(delivered) == len(set(delivered))
    # TaskPublished; Attempted + TaskStatusChanged(ATTEMPTED);
    # ResponseSubmitted + ResponseStatusChanged + TaskStatusChanged(FINALIZED)
    assert len(first) == 3
    assert len(second) == 3
    expected = [
        _key(log) for r in receipts for log in r["logs"] if log["address"] == proto.nexus.address
    ]
    assert set(expected) <= set(delivered)
    all_logs = proto.w3.eth.get_filter_logs(log_filter.filter_id)
    assert [_key(log) for log in all_logs] == delivered

    names = []
    for log in first + second:
        for event in ("TaskPublished", "Attempted", "TaskStatusChanged", "ResponseSubmitted",
                      "ResponseStatusChanged"):  # fmt: skip
            try:
                names.append(getattr(proto.nexus.events, event)().process_log(log)["event"])
                break
            except Exception:
                continue
    assert names == [
        "TaskPublished",
        "Attempted",
        "TaskStatusChanged",
        "ResponseSubmitted",
        "ResponseStatusChanged",
        "TaskStatusChanged",
    ]
    assert proto.w3.eth.uninstall_filter(log_filter.filter_id) is True


def test_get_logs_by_event_topic(proto: Protocol, proto_world: World) -> None:
    w = proto_world
    start = proto.w3.eth.block_number + 1
    t1 = proto.publish_task(w.src_first, w.client)
    t2 = proto.publish_task(w.src_manual, w.client)
    logs = proto.nexus.events.TaskPublished().get_logs(from_block=start)
    assert [(e["args"]["task"], e["args"]["source"]) for e in logs] == [
        (t1, w.src_first),
        (t2, w.src_manual),
    ]
