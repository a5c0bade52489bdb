"""The ``ogpu`` command without a network: argument types, exit codes, help, cheap import."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ogpu.cli import EXIT_CODES, exit_code_for, main
from ogpu.cli._exit import one_line
from ogpu.cli._parse import amount, duration, json_data
from ogpu.client import TaskClosedError, WaitTimeoutError
from ogpu.ipfs import IPFSFetchError, IPFSIntegrityError, IPFSUntrustedURLError
from ogpu.types import (
    FeeTooHighError,
    InsufficientBalanceError,
    InvalidAddressError,
    MissingSignerError,
    Role,
    TaskNotFoundError,
    TxRevertError,
    TxRpcError,
)


@pytest.mark.parametrize(
    ("text", "wei"),
    [("123", 123), ("123wei", 123), ("0.01ogpu", 10**16), ("1 OGPU", 10**18),
     ("1.5gwei", 1_500_000_000), (".5ogpu", 5 * 10**17), ("0", 0)],
)  # fmt: skip
def test_amounts(text: str, wei: int) -> None:
    assert amount(text) == wei


@pytest.mark.parametrize("text", ["", "-1", "1e18", "0.5wei", "1eth", "ogpu", "1.2.3ogpu"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        amount(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400),
     ("250ms", 0.25), ("0.5s", 0.5)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0", "0s", "soon", "5x", "h2", "1h30", "-5s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        duration(text)


def test_data_from_text_and_file(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text('{"text": "hi"}')
    assert json_data('{"a": [1]}') == {"a": [1]}
    assert json_data(f"@{path}") == {"text": "hi"}
    with pytest.raises(argparse.ArgumentTypeError, match="cannot read"):
        json_data(f"@{path}.missing")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (InvalidAddressError("0x1", "too short"), 2),
        (MissingSignerError(Role.CLIENT), 3),
        (TxRpcError("connection refused"), 4),
        (IPFSFetchError("http://x/ipfs/Qm", "timeout"), 4),
        (TaskNotFoundError("0x" + "11" * 20), 5),
        (InsufficientBalanceError("0x" + "11" * 20, 2, 1), 5),
        (TxRevertError("Nope"), 5),
        (TaskClosedError("0x" + "11" * 20, "EXPIRED"), 5),
        (WaitTimeoutError("0x" + "11" * 20, 1.0, "NEW"), 6),
        (IPFSIntegrityError("http://x/ipfs/Qm", "Qm", "Qn"), 1),
        (IPFSUntrustedURLError("http://127.0.0.1:1/x", "not IPFS content"), 1),
        (FeeTooHighError("max fee per gas", 10**20, 10**10), 4),
        (KeyboardInterrupt(), 130),
    ],
)
def test_exit_codes_are_distinct_per_kind(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code
    assert code in EXIT_CODES
    assert "\n" not in one_line(exc)


def test_help_lists_the_exit_codes_and_every_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for group in ("source", "task", "response", "provider", "vault", "watch"):
        assert group in out
    for code in EXIT_CODES:
        assert f"{code} " in out


def test_keys_are_not_accepted_as_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["vault", "deposit", "1", "--private-key", "0x" + "11" * 32])
    assert exited.value.code == 2


def test_import_ogpu_cli_is_cheap() -> None:
    code = (
        "import sys, json, ogpu.cli\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('web3', 'eth_account', 'ogpu_devnet', 'rich') or m in ('ogpu.client', 'ogpu.protocol'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_live_line_on_a_terminal_and_plain_lines_otherwise() -> None:
    from ogpu.cli._output import Progress

    tty = _Terminal()
    live = Progress("task 0xT", tty)
    for stage in ("published", "published", "attempted", "confirmed"):
        live.update(stage)
    live.close()
    text = tty.getvalue()
    assert text.count("\r\x1b[K") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "task 0xT: confirmed (" in text

    pipe = io.StringIO()
    plain = Progress("task 0xT", pipe)
    for stage in ("published", "published", "attempted", "confirmed"):
        plain.update(stage)
    plain.close()
    lines = pipe.getvalue().splitlines()
    assert [line.split(": ")[1].split(" (")[0] for line in lines] == [
        "published",
        "attempted",
        "confirmed",
    ]
    assert "\r" not in pipe.getvalue()


@pytest.mark.slow
def test_the_wheel_ships_the_command(tmp_path: Path) -> None:
    import zipfile

    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(root)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("ogpu_client-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "ogpu = ogpu.cli:main" in z.read(entry_points).decode()
    assert {"ogpu/cli/__init__.py", "ogpu/cli/__main__.py", "ogpu/cli/py.typed"} <= names
    assert "ogpu/__init__.py" not in names
