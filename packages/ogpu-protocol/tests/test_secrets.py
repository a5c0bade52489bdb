"""Private keys never appear in log lines (at DEBUG), reprs, error messages or tracebacks,
including on the failure paths of signed sends against the devnet."""

from __future__ import annotations

import logging
import pickle
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from ogpu.chain import fix_nonce, get_nonce_info, reset_nonce_cache, resolve_signer
from ogpu.ipfs import set_verbose
from ogpu.protocol import Provider, Task, controller, nexus, vault
from ogpu.types import (
    InsufficientBalanceError,
    InvalidSignerError,
    NotSourceOwnerError,
    OGPUError,
    TaskParams,
)

from .conftest import set_live_data


def _forms(key: str) -> list[str]:
    body = key[2:] if key.startswith("0x") else key
    return [body.lower(), body.upper(), body[:32].lower(), body[32:].lower()]


def _text_of(exc: BaseException) -> str:
    """Everything a user could see of an exception: message, repr, args, fields, the whole
    formatted traceback chain, and its pickled form."""
    parts = [str(exc), repr(exc), repr(exc.args), repr(vars(exc))]
    parts.append("".join(traceback.format_exception(exc)))
    try:
        parts.append(pickle.dumps(exc).hex())
        parts.append(repr(pickle.loads(pickle.dumps(exc)).__dict__))
    except Exception:  # pragma: no cover - reported by the pickling tests
        pass
    return "\n".join(parts)


def _assert_clean(text: str, key: str) -> None:
    lowered = text.lower()
    for form in _forms(key):
        assert form.lower() not in lowered


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Any:
    """Every logger at DEBUG into caplog, plus the SDK's own verbose stderr handler."""
    caplog.set_level(logging.DEBUG)
    set_verbose(True, logging.DEBUG)
    yield lambda: caplog.text + "".join(capfd.readouterr())
    set_verbose(False)


def test_failed_signed_sends_leak_no_key(net: Any, fault_proxy: Any, debug_logs: Any) -> None:
    key = net.other.private_key
    source = net.publish_source()
    errors: list[BaseException] = []
    attempts: list[Callable[[], Any]] = [
        # a revert from the estimate, mapped with a follow-up read
        lambda: vault.withdraw(10**30, signer=key),
        # a revert mapped to a permission error
        lambda: nexus.update_source(source.address, net.source_params(), signer=key),
        # a revert with a string reason (TxRevertError)
        lambda: nexus.unregister(source.address, net.other.address, signer=key),
    ]
    for attempt in attempts:
        with pytest.raises(OGPUError) as err:
            attempt()
        errors.append(err.value)
    assert isinstance(errors[0], InsufficientBalanceError)
    assert isinstance(errors[1], NotSourceOwnerError)
    # transport failures (warning logs with the exception text), then success
    fault_proxy.inject("eth_sendRawTransaction", "drop", "forward_then_drop")
    set_live_data("through faults", signer=key)
    # the nonce tools with the key
    get_nonce_info(private_key=key)
    reset_nonce_cache(private_key=key)
    fix_nonce(private_key=key)
    text = debug_logs()
    assert "re-sending the same bytes" in text  # the logs were captured indeed
    assert "rpc eth_sendRawTransaction" in text
    _assert_clean(text, key)
    for error in errors:
        _assert_clean(_text_of(error), key)


def test_invalid_signers_leak_nothing(monkeypatch: pytest.MonkeyPatch, debug_logs: Any) -> None:
    good = "0x" + "7a" * 32
    bad_keys = [
        good[:-2] + "zz",  # not hex
        good + "00",  # too long
        good[:-2],  # too short
        "0x" + "ff" * 32,  # outside the curve order
        " " + good[2:-1] + "g ",
    ]
    for bad in bad_keys:
        with pytest.raises(InvalidSignerError) as err:
            set_live_data("x", signer=bad)
        _assert_clean(_text_of(err.value), bad.strip())
        monkeypatch.setenv("PROVIDER_PRIVATE_KEY", bad)
        with pytest.raises(InvalidSignerError) as err2:
            set_live_data("x")
        _assert_clean(_text_of(err2.value), bad.strip())
        assert "PROVIDER_PRIVATE_KEY" in str(err2.value)
    _assert_clean(debug_logs(), good)


def test_reprs_of_signer_holders_leak_nothing(debug_logs: Any) -> None:
    key = "0x" + "3b" * 32
    account = resolve_signer(key)
    for obj in (account, Provider(account.address), Task(account.address)):
        _assert_clean(repr(obj) + str(obj), key)
    params = TaskParams(source=account.address, config="c", expiryTime=1, payment=-1)
    _assert_clean(repr(params), key)
    with pytest.raises(OGPUError) as err:  # rejected before I/O, with the account in hand
        controller.publish_task(params, signer=account)
    _assert_clean(_text_of(err.value), key)
    _assert_clean(debug_logs(), key)
