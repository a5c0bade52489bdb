"""The state directory's journal (``ogpu_devnet._journal``): a replayed journal rebuilds the
chain block for block (same hashes), ``chain.json`` guards against other settings, and a broken
journal says where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from ogpu_devnet._clock import ClockState
from ogpu_devnet._journal import JOURNAL_VERSION, Journal
from ogpu_devnet.chain import DevnetChain, default_accounts
from ogpu_devnet.errors import StateDirError

GWEI = 10**9
ACCOUNTS = default_accounts(3)


def _raw(chain: DevnetChain, sender: int, nonce: int, **extra: Any) -> bytes:
    tx = {"to": ACCOUNTS[2].address, "value": 1, "gas": 21000, "nonce": nonce,
          "chainId": chain.chain_id, "maxFeePerGas": 10 * GWEI, "maxPriorityFeePerGas": GWEI,
          **extra}  # fmt: skip
    signed = Account.from_key(ACCOUNTS[sender].private_key).sign_transaction(tx)
    return bytes(signed.raw_transaction)


def _hashes(chain: DevnetChain) -> list[bytes]:
    blocks = [chain.block_by_number(n) for n in range(chain.block_number() + 1)]
    return [b.hash for b in blocks if b is not None]


def _busy_chain(state_dir: Path) -> DevnetChain:
    """A chain that went through every journaled operation."""
    chain = DevnetChain(state_dir=state_dir, params={"unbonding": 7})
    chain.send_raw_transaction(_raw(chain, 0, 0))
    chain.send_raw_transaction(_raw(chain, 0, 2))  # queued behind a gap...
    chain.send_raw_transaction(_raw(chain, 0, 1))  # ...mined right after the gap fills
    chain.increase_time(3600)
    chain.set_automine(False)
    chain.send_raw_transaction(_raw(chain, 1, 0))
    chain.send_raw_transaction(_raw(chain, 0, 3))
    chain.mine(1)  # one block from the pool
    chain.mine(3, interval=60)  # empty blocks
    snapshot = chain.snapshot()
    chain.set_automine(True)
    chain.send_raw_transaction(_raw(chain, 1, 1))
    chain.revert(snapshot)  # the transaction is gone again
    chain.set_next_block_timestamp(chain.head().timestamp + 1000)
    chain.send_raw_transaction(_raw(chain, 1, 1, value=5))
    return chain


def test_a_replayed_journal_rebuilds_the_same_chain(tmp_path: Path) -> None:
    chain = _busy_chain(tmp_path)
    hashes, clock = _hashes(chain), chain._clock.state
    assert len(hashes) == 9 and not chain.restored
    chain.close()
    lines = (tmp_path / "journal.jsonl").read_text().splitlines()
    assert [json.loads(line)["op"] for line in lines] == [
        "tx", "tx", "tx", "time", "block", "mine", "mine", "mine", "snapshot", "tx", "revert",
        "time", "tx",
    ]  # fmt: skip

    again = DevnetChain(state_dir=tmp_path, params={"unbonding": 7})
    assert again.restored and again.meta["params"] == {"unbonding": 7}
    assert _hashes(again) == hashes
    assert again._clock.state == clock
    # replaying recorded nothing; new work is appended after the replayed lines
    assert (tmp_path / "journal.jsonl").read_text().splitlines() == lines
    again.mine(1)
    again.close()
    assert len((tmp_path / "journal.jsonl").read_text().splitlines()) == len(lines) + 1
    third = DevnetChain(state_dir=tmp_path)
    assert _hashes(third)[:-1] == hashes and len(_hashes(third)) == len(hashes) + 1
    third.close()


def test_chain_json_refuses_other_settings(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert not journal.exists
    addresses = [a.address for a in ACCOUNTS]
    meta = {"version": JOURNAL_VERSION, "chain_id": 5, "genesis_timestamp": 1,
            "accounts": addresses, "params": {"lockup": 2}}  # fmt: skip
    journal.start(meta)
    journal.close()
    assert journal.exists and journal.load_meta(5, addresses, {"lockup": 2}) == meta
    assert journal.load_meta(5, addresses, {"other": 1}) == meta  # new settings are no conflict
    with pytest.raises(StateDirError, match="holds chain id 5, not 6"):
        journal.load_meta(6, addresses, {})
    with pytest.raises(StateDirError, match="created with lockup=2, not 3"):
        journal.load_meta(5, addresses, {"lockup": 3})
    with pytest.raises(StateDirError, match="other funded accounts"):
        journal.load_meta(5, addresses[:2], {})
    journal.save_meta({**meta, "version": JOURNAL_VERSION + 1})
    with pytest.raises(StateDirError, match="unknown format version"):
        journal.load_meta(5, addresses, {})
    journal.meta_file.write_text("{not json")
    with pytest.raises(StateDirError, match="cannot read"):
        journal.load_meta(5, addresses, {})


def test_replay_drops_a_cut_line_and_names_a_bad_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.start({"version": JOURNAL_VERSION})
    journal.record("time", ClockState(5, None))
    journal.record("mine", ClockState(6, 99), ts=42)
    journal.close()
    with journal.journal_file.open("a") as fh:
        fh.write('{"op":"mine","ts":4')  # killed mid-write
    seen: list[dict[str, Any]] = []
    journal.replay(seen.append)
    assert [e["op"] for e in seen] == ["time", "mine"] and seen[1]["ts"] == 42
    assert Journal.clock_of(seen[1]) == ClockState(6, 99)
    assert journal.journal_file.read_text().endswith("\n")  # the cut line is gone

    def refuse(entry: dict[str, Any]) -> None:
        journal.record("time", ClockState(0, None))  # never written while replaying
        if entry["op"] == "mine":
            raise KeyError("ts")

    journal.open()
    with pytest.raises(StateDirError, match=r"journal.jsonl:2: cannot replay journal entry"):
        journal.replay(refuse)
    journal.close()
    assert len(journal.journal_file.read_text().splitlines()) == 2
