"""Output of the ``ogpu`` command: tables and JSON on stdout, progress on stderr.

Tables are aligned plain text (readable in a terminal, greppable in a pipe); ``--json`` prints
one JSON document (or one JSON object per line for streams). Progress goes to stderr: a live
status line rewritten in place on a terminal, one plain line per change otherwise.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from ogpu.cli._parse import WEI_PER_OGPU

#: Snapshot fields shown as amounts (wei, with the OGPU value beside it in tables).
AMOUNT_FIELDS = frozenset(
    {
        "payment",
        "balance",
        "lockup",
        "unbonding",
        "total_earnings",
        "frozen_payment",
        "minPayment",
        "minAvailableLockup",
        "suggested_payment",
    }
)


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses -> dicts, enums -> names, bytes -> hex."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.name if value.name is not None else value.value
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if hasattr(value, "address") and not isinstance(value, (str, int)):
        return str(value.address)
    return value


def format_amount(wei: int) -> str:
    """``10000000000000000`` -> ``10000000000000000 wei (0.01 OGPU)``."""
    if wei == 0:
        return "0"
    whole, frac = divmod(wei, WEI_PER_OGPU)
    units = str(whole) + (("." + f"{frac:018d}".rstrip("0")) if frac else "")
    return f"{wei} wei ({units} OGPU)"


def _cell(key: str, value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "-" if value is None else ("yes" if value else "no")
    if key in AMOUNT_FIELDS and isinstance(value, int):
        return format_amount(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _rows(data: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, dict) and key == "params":
            rows += _rows(value, prefix=f"{key}.")
        else:
            rows.append((prefix + key, _cell(key, value)))
    return rows


def print_record(title: str, data: dict[str, Any], out: TextIO | None = None) -> None:
    """A two-column table: field names and values (amounts in wei and OGPU)."""
    out = out or sys.stdout
    rows = _rows(data)
    width = max((len(k) for k, _ in rows), default=0)
    print(title, file=out)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}", file=out)


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], out: TextIO | None = None
) -> None:
    """A table with a header row; amounts are shown in wei."""
    out = out or sys.stdout
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(columns)]
    print(
        "  ".join(h.upper().ljust(w) for h, w in zip(columns, widths, strict=True)).rstrip(),
        file=out,
    )
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)


def print_json(data: Any, out: TextIO | None = None, *, lines: bool = False) -> None:
    """``data`` as JSON (indented; one compact line each with ``lines=True``)."""
    out = out or sys.stdout
    if lines:
        print(json.dumps(plain(data), separators=(",", ":")), file=out, flush=True)
    else:
        print(json.dumps(plain(data), indent=2), file=out, flush=True)


class Progress:
    """Status of a wait on stderr: a live line on a terminal, plain lines otherwise."""

    def __init__(self, subject: str, stream: TextIO | None = None) -> None:
        self.subject = subject
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.started = time.monotonic()
        self.stage = ""

    def update(self, stage: str, detail: str = "") -> None:
        """Show ``stage`` (a new plain line only when it changed; the live line every call)."""
        elapsed = time.monotonic() - self.started
        text = f"{self.subject}: {stage}{' ' + detail if detail else ''} ({elapsed:.1f}s)"
        if self.live:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
        elif stage != self.stage:
            print(text, file=self.stream, flush=True)
        self.stage = stage

    def close(self) -> None:
        """End the live line (a newline), so later output starts on its own line."""
        if self.live and self.stage:
            self.stream.write("\n")
            self.stream.flush()
