"""The state directory: ``chain.json`` (genesis parameters) and ``journal.jsonl`` (every
state-changing operation, one JSON line each).

Journaled operations: raw transactions with the timestamp of the block they were mined in,
blocks mined from the pool, empty blocks, time controls, snapshots and reverts (queued
future-nonce transactions once they are mined, never while they wait). Each line also carries
the clock (offset, pinned next timestamp) after the operation. On start the journal is replayed
against a fresh genesis with the recorded block timestamps, which reproduces the chain block for
block (same hashes); replay costs roughly the original execution time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from ogpu_devnet._clock import ClockState
from ogpu_devnet.errors import DevnetError, StateDirError

__all__ = ["JOURNAL_VERSION", "Journal"]

JOURNAL_VERSION = 1
"""The state directory's format version (``chain.json``'s ``version``)."""


class Journal:
    """The files of one state directory (created if missing)."""

    def __init__(self, state_dir: str | os.PathLike[str]) -> None:
        self.path = Path(state_dir)
        self.meta_file = self.path / "chain.json"
        self.journal_file = self.path / "journal.jsonl"
        self._out: IO[str] | None = None
        self._replaying = False

    @property
    def exists(self) -> bool:
        """Whether the directory already holds a chain (its ``chain.json``)."""
        return self.meta_file.exists()

    # ------------------------------------------------------------------ chain.json

    def load_meta(
        self, chain_id: int, accounts: Sequence[str], params: dict[str, Any]
    ) -> dict[str, Any]:
        """The stored genesis metadata, checked against this start's settings."""
        meta_file = self.meta_file
        try:
            meta: dict[str, Any] = json.loads(meta_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StateDirError(f"cannot read {meta_file}: {exc}") from None
        if meta.get("version") != JOURNAL_VERSION:
            raise StateDirError(f"{meta_file} has an unknown format version")
        if meta.get("chain_id") != chain_id:
            raise StateDirError(
                f"the state directory holds chain id {meta.get('chain_id')}, not {chain_id}; "
                "use the same --chain-id or another --state-dir"
            )
        stored = meta.get("params", {})
        for key, value in params.items():
            if key in stored and stored[key] != value:
                raise StateDirError(
                    f"the state directory was created with {key}={stored[key]}, not {value}; "
                    "use the same setting or another --state-dir"
                )
        if meta.get("accounts") != list(accounts):
            raise StateDirError("the state directory was created with other funded accounts")
        return meta

    def save_meta(self, meta: dict[str, Any]) -> None:
        """Write ``chain.json`` (atomically: a temporary file renamed over it)."""
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.meta_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.meta_file)

    # ------------------------------------------------------------------ journal.jsonl

    def start(self, meta: dict[str, Any]) -> None:
        """A fresh chain: write its metadata and an empty journal, then open it."""
        self.save_meta(meta)
        self.journal_file.write_text("")
        self.open()

    def open(self) -> None:
        """Open the journal for appending."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._out = self.journal_file.open("a", encoding="utf-8")

    def record(self, op: str, clock: ClockState, **fields: Any) -> None:
        """Append one operation with the clock after it (not while replaying or closed)."""
        if self._out is None or self._replaying:
            return
        entry = {"op": op, **fields, "offset": clock.offset, "next_ts": clock.next_timestamp}
        self._out.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._out.flush()

    def replay(self, apply: Callable[[dict[str, Any]], None]) -> None:
        """Call ``apply(entry)`` for every journaled operation in order (nothing is recorded
        meanwhile). A last line cut short (the process was killed mid-write; that request was
        never answered) is dropped from the file. A line that fails raises StateDirError."""
        journal_file = self.journal_file
        if not journal_file.exists():
            return
        data = journal_file.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            with journal_file.open("r+b") as raw:
                raw.truncate(cut)
        self._replaying = True
        try:
            with journal_file.open(encoding="utf-8") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        apply(json.loads(line))
                    except (ValueError, KeyError, TypeError, DevnetError) as exc:
                        raise StateDirError(
                            f"{journal_file}:{lineno}: cannot replay journal entry: {exc}"
                        ) from None
        finally:
            self._replaying = False

    @staticmethod
    def clock_of(entry: dict[str, Any]) -> ClockState:
        """The clock recorded with a journal entry."""
        nts = entry["next_ts"]
        return ClockState(int(entry["offset"]), None if nts is None else int(nts))

    def close(self) -> None:
        """Close the journal file."""
        if self._out is not None:
            self._out.close()
            self._out = None
