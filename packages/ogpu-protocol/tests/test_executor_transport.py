"""The executor and the read path against the live network's transport faults, reproduced by
the devnet's own fault knobs on its real socket (``Devnet.drop_after``, ``Devnet.lag``) and by
the fault proxy (``fault_proxy``, conftest).

What is proved: after a send whose answer was lost, a lagging replica (``null`` lookups) or a
failing lookup never makes the executor sign the intent under another nonce (exactly one
transaction mined; a typed ``TxOutcomeUnknownError`` with hash and nonce when the node never
shows it); an absurd fee suggested by the node is refused before signing; a paginated read
pinned to a block the replica does not know retries, then re-pins to a block the node has.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils import keccak
from ogpu.chain import tx as _tx
from ogpu.chain._rpc import RpcClient, forget_written_blocks
from ogpu.protocol import vault
from ogpu.types import FeeTooHighError, TxOutcomeUnknownError


def _direct(net: Any) -> RpcClient:
    return RpcClient(net.rpc_url)


def _nonce(net: Any, address: str) -> int:
    return int(_direct(net).request("eth_getTransactionCount", [address, "latest"]), 16)


def _deposits_mined(net: Any, address: str, since_block: int) -> list[str]:
    """Hashes of the transactions ``address`` sent in blocks after ``since_block``."""
    client = _direct(net)
    head = int(client.request("eth_blockNumber", []), 16)
    hashes = []
    for number in range(since_block + 1, head + 1):
        block = client.request("eth_getBlockByNumber", [hex(number), True])
        hashes += [
            tx["hash"] for tx in block["transactions"] if tx["from"].lower() == address.lower()
        ]
    return hashes


def test_lost_answer_and_lagging_replica_mine_exactly_one_transaction(net: Any) -> None:
    """The send reaches the node (mined at once), the connection drops before the answer, and
    the next requests reach a replica one block behind (lookups answer ``null``): the executor
    waits for the hash instead of moving to the next nonce."""
    acct = net.other
    devnet = net.devnet
    start = _nonce(net, acct.address)
    head = int(_direct(net).request("eth_blockNumber", []), 16)
    devnet.drop_after("eth_sendRawTransaction")
    devnet.lag(8, blocks=1)
    receipt = vault.deposit(acct.address, 1234, signer=acct.private_key)
    assert receipt.status == 1
    assert _nonce(net, acct.address) == start + 1
    assert _deposits_mined(net, acct.address, head) == [receipt.tx_hash]


def test_send_of_unknown_outcome_raises_a_typed_error_never_a_second_send(
    net: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    acct = net.other
    devnet = net.devnet
    monkeypatch.setattr(_tx, "OUTCOME_WAIT", 0.6)
    start = _nonce(net, acct.address)
    head = int(_direct(net).request("eth_blockNumber", []), 16)
    devnet.drop_after("eth_sendRawTransaction")
    devnet.lag(10**6, blocks=1)  # the replica never catches up within the wait
    try:
        with pytest.raises(TxOutcomeUnknownError) as err:
            vault.deposit(acct.address, 99, signer=acct.private_key)
    finally:
        devnet.reset_faults()
    mined = _deposits_mined(net, acct.address, head)
    assert len(mined) == 1 and _nonce(net, acct.address) == start + 1
    assert err.value.tx_hash == mined[0] and err.value.nonce == start
    assert mined[0] in str(err.value) and f"nonce {start}" in str(err.value)
    # The cache was dropped: the next intent takes the next nonce.
    vault.deposit(acct.address, 1, signer=acct.private_key)
    assert _nonce(net, acct.address) == start + 2


def test_a_failed_lookup_is_not_an_unknown_transaction(net: Any, fault_proxy: Any) -> None:
    """The answer of the send is lost and every lookup of the hash fails (an error entry in
    the batch): the executor never reads that as "not known" and moves nonce."""
    acct = net.other
    start = _nonce(net, acct.address)
    fault_proxy.inject("eth_sendRawTransaction", "forward_then_drop")
    fault_proxy.inject(
        "eth_getTransactionByHash", *[("error", -32000, "upstream lookup failed")] * 3
    )
    receipt = vault.deposit(acct.address, 5, signer=acct.private_key)
    assert receipt.status == 1
    assert len(set(fault_proxy.forwarded_raw)) == 1
    assert receipt.tx_hash == "0x" + keccak(hexstr=fault_proxy.forwarded_raw[0]).hex()
    assert _nonce(net, acct.address) == start + 1


def test_an_absurd_tip_suggested_by_the_node_is_refused_before_signing(
    net: Any, fault_proxy: Any
) -> None:
    acct = net.other
    start = _nonce(net, acct.address)
    fault_proxy.inject("eth_maxPriorityFeePerGas", ("result", hex(10**15)))  # 1e6 gwei
    with pytest.raises(FeeTooHighError) as err:
        vault.deposit(acct.address, 5, signer=acct.private_key)
    assert err.value.fee > err.value.cap and err.value.tx_hash is None
    assert fault_proxy.seen_raw == []
    assert _nonce(net, acct.address) == start
    # A normal suggestion goes through.
    vault.deposit(acct.address, 5, signer=acct.private_key)
    assert _nonce(net, acct.address) == start + 1


def test_the_absolute_fee_ceiling_is_configurable(
    net: Any, fault_proxy: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    acct = net.other
    monkeypatch.setenv("OGPU_MAX_TX_FEE_WEI", "1000")
    with pytest.raises(FeeTooHighError, match="transaction fee") as err:
        vault.deposit(acct.address, 5, signer=acct.private_key)
    assert err.value.cap == 1000
    assert fault_proxy.seen_raw == []


def _pinned_blocks(counting_proxy: Any) -> list[int]:
    pinned = []
    for body in counting_proxy.bodies:
        payload = json.loads(body)
        for call in payload if isinstance(payload, list) else [payload]:
            if call.get("method") == "eth_call" and call["params"][1].startswith("0x"):
                pinned.append(int(call["params"][1], 16))
    return pinned


@pytest.mark.parametrize("own_write", [False, True], ids=["others-writes", "own-write"])
def test_pinned_pages_on_a_lagging_replica_re_pin_to_a_block_it_has(
    net: Any, counting_proxy: Any, own_write: bool
) -> None:
    """The count and block number come from an up-to-date replica, the pages reach one that
    is a block behind: after the retries the read starts again pinned to the replica's head,
    and returns the tasks as of that block (all but the one mined in the newest block).

    Unless the newest task is this client's own write (read-your-writes, live-chain.md last
    row): then no read describes a block before it; the read waits for a replica that has it
    and lists all three."""
    source = net.publish_source()
    net.fund_client()
    tasks = [net.publish_task(source) for _ in range(3)]
    head = int(_direct(net).request("eth_blockNumber", []), 16)
    if not own_write:
        forget_written_blocks()  # as if another client had published them
    counting_proxy.reset()
    net.devnet.lag(12, blocks=1, after=1)
    listed = source.get_tasks()
    pinned = _pinned_blocks(counting_proxy)
    if own_write:
        assert [t.address for t in listed] == [t.address for t in tasks]
        assert set(pinned) == {head}
    else:
        assert [t.address for t in listed] == [t.address for t in tasks[:2]]
        assert head in pinned and pinned[-1] == head - 1
