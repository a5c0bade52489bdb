"""``ogpu-devnet conformance`` against the devnet itself: every testable row agrees."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from ogpu_devnet.cli.conformance import AGREES, DIFFERS, NOT_TESTABLE, ROWS, probe

from .conftest import Protocol

pytestmark = pytest.mark.usefixtures("devnet_isolated")
World = Any


def _state(proto: Protocol, w: World) -> str:
    """Two tasks on src_manual; the first attempted by both providers, answered by one."""
    task = proto.publish_task(w.src_manual, w.client)
    proto.publish_task(w.src_manual, w.client)
    proto.attempt(task, w.provider)
    proto.attempt(task, w.provider2)
    proto.submit(task, w.provider2, "ipfs://two", 10**15)
    return task


def test_rows_match_the_table() -> None:
    """The probe knows every row of devnet/docs/live-chain.md."""
    from pathlib import Path

    doc = Path(__file__).resolve().parents[1] / "docs" / "live-chain.md"
    rows = [line for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    numbers = [line.split("|")[1].strip() for line in rows[2:]]
    # rows appended later by others may come without a verdict here: the first ROWS are known
    assert numbers[:ROWS] == [str(n) for n in range(1, ROWS + 1)]


def test_conformance_against_devnet_agrees(
    proto: Protocol, proto_world: World, devnet: Any
) -> None:
    task = _state(proto, proto_world)
    verdicts = probe(
        devnet.rpc_url,
        source=proto_world.src_manual,
        task=task,
        publish_url=devnet.ipfs.publish_url,
    )
    differs = [v for v in verdicts if v.verdict == DIFFERS]
    assert not differs, differs
    agreed = {v.row for v in verdicts if v.verdict == AGREES}
    assert {1, 2, 4, 5, 6, 7, 12, 13, 21, 22} <= agreed, sorted(agreed)
    assert {v.row for v in verdicts} == set(range(1, ROWS + 1))  # a verdict for every row
    assert all(v.verdict in (AGREES, NOT_TESTABLE) for v in verdicts)
    holes = next(v for v in verdicts if v.row == 6)
    assert "2 attempters, 2 entries, 1 holes, 0 mismatches" in holes.detail


def test_conformance_cli_signs_nothing_and_exits_0(
    proto: Protocol, proto_world: World, devnet: Any
) -> None:
    """The command line, JSON output; no key anywhere in its environment, no block mined."""
    blocks_before = proto.w3.eth.block_number
    run = subprocess.run(
        [sys.executable, "-m", "ogpu_devnet", "conformance", "--rpc", devnet.rpc_url, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = [json.loads(line) for line in run.stdout.splitlines()]
    by_row = {}
    for line in lines:
        by_row.setdefault(line["row"], []).append(line["verdict"])
    assert by_row[22] == [AGREES] and by_row[12] == [AGREES] and AGREES in by_row[7]
    assert by_row[5] == [NOT_TESTABLE] and by_row[13] == [NOT_TESTABLE]
    assert proto.w3.eth.block_number == blocks_before
