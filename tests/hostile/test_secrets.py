"""Catalogue 4: one sentinel private key through the whole flow, with every logger at DEBUG.

The key signs (passed as a string, through ``CLIENT_PRIVATE_KEY``, and as a signer object),
on the happy path and on failure paths (a revert, an insufficient balance, a hostile node,
a pinning service that is down). Afterwards no form of it (lower/upper case hex, either
half, the raw bytes) appears in any log line, repr, error message, formatted traceback or
pickle of anything the SDK gave back. See "Keeping keys out of tracebacks" in
packages/ogpu-protocol/README.md for tracebacks captured with locals.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import traceback
from typing import Any

import ogpu.ipfs
import pytest
from eth_account import Account
from ogpu.chain import get_nonce_info, resolve_signer
from ogpu.client import (
    DeliveryMethod,
    cancel_task,
    confirm_response,
    publish_source,
    publish_task,
    wait_for_response,
)
from ogpu.protocol import vault
from ogpu.types import OGPUError

import ogpu

SENTINEL = "0x" + "5e7e1ae1" * 8  # a valid secp256k1 key that is easy to look for
SENTINEL_ADDRESS = Account.from_key(SENTINEL).address


def forms() -> list[bytes]:
    body = SENTINEL[2:]
    raw = bytes.fromhex(body)
    return [
        body.lower().encode(), body.upper().encode(),
        body[:32].encode(), body[32:].encode(), raw, raw[:16], raw[16:],
    ]  # fmt: skip


def assert_clean(blob: bytes | str, where: str) -> None:
    data = blob.encode(errors="replace") if isinstance(blob, str) else blob
    lowered = data.lower()
    for form in forms():
        assert form.lower() not in lowered, f"the sentinel key leaked into {where}"


def exposure(obj: Any) -> list[tuple[str, bytes | str]]:
    """Everything a user (or a crash reporter) could see of ``obj``."""
    seen: list[tuple[str, bytes | str]] = [("repr", repr(obj)), ("str", str(obj))]
    if isinstance(obj, BaseException):
        seen.append(("traceback", "".join(traceback.format_exception(obj))))
        seen.append(("args", repr(obj.args)))
        seen.append(("fields", repr(vars(obj))))
        seen.append(("notes", repr(getattr(obj, "__notes__", []))))
    if isinstance(obj, BaseException):
        seen.append(("pickle", pickle.dumps(obj)))  # every SDK error pickles
    else:
        with contextlib.suppress(Exception):  # a running provider group does not pickle
            seen.append(("pickle", pickle.dumps(obj)))
    return seen


def test_a_sentinel_key_never_leaks(
    net: Any,
    providers: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    w3 = net.w3
    funder = net.devnet.accounts[0]
    tx = w3.eth.account.sign_transaction(
        {
            "to": SENTINEL_ADDRESS, "value": 10 * 10**18, "gas": 21_000,
            "gasPrice": w3.eth.gas_price * 2, "nonce": w3.eth.get_transaction_count(funder.address),
            "chainId": w3.eth.chain_id,
        },
        funder.private_key,
    )  # fmt: skip
    w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(tx.raw_transaction))

    things: list[Any] = []
    errors: list[BaseException] = []

    def expect_error(call: Any) -> None:
        with pytest.raises(OGPUError) as info:
            call()
        errors.append(info.value)

    ogpu.set_verbose(True, logging.DEBUG)
    try:
        with caplog.at_level(logging.DEBUG):
            signer = resolve_signer(SENTINEL)  # a signer object (it holds the key: it pickles it)
            assert_clean(repr(signer) + str(signer), "the repr of the signer object")
            # failure before funding: the Vault holds nothing for the sentinel yet
            source = publish_source(net.source_info(DeliveryMethod.MANUAL_CONFIRMATION), SENTINEL)
            things.append(source)
            expect_error(lambda: publish_task(net.task_info(source, {"text": "x"}), SENTINEL))
            things.append(vault.deposit(SENTINEL_ADDRESS, 10**18, signer=signer))
            group = providers(lambda data: {"len": len(data["text"])}, sources=[source])
            # the key from the environment
            monkeypatch.setenv("CLIENT_PRIVATE_KEY", SENTINEL)
            task = publish_task(net.task_info(source, {"text": "sentinel"}))
            things += [task, task.snapshot(), get_nonce_info(private_key=SENTINEL)]
            response = wait_for_response(task, timeout=60, poll_interval=0.05, confirmed=False)
            things += [response, response.snapshot()]
            things.append(confirm_response(response, signer))  # a signer object
            # failure paths: confirmed twice, cancel a finalized task, another client's task
            expect_error(lambda: confirm_response(response, SENTINEL))
            expect_error(lambda: cancel_task(task, SENTINEL))
            other_source = net.publish_source()
            net.fund_client()
            other = publish_task(net.task_info(other_source, {"text": "other"}), net.client_key)
            expect_error(lambda: cancel_task(other, SENTINEL))
            # the pinning service answers 503s: the upload fails, the key signs nothing
            net.devnet.ipfs.faults.fail_next(5, 503, path_prefix="/file/create")
            expect_error(
                lambda: publish_task(net.task_info(source, {"t": 1}), SENTINEL, ipfs_retries=0)
            )
            net.devnet.ipfs.faults.reset()
            # a bad key next to the good one: the error must not echo what it was given
            expect_error(lambda: resolve_signer(SENTINEL[:-2]))
            expect_error(lambda: resolve_signer(SENTINEL + "00"))
            things.append(group)
    finally:
        ogpu.set_verbose(False)
        net.devnet.ipfs.faults.reset()
        ogpu.ipfs.configure(reset=True)
    assert len(errors) == 7
    captured = capfd.readouterr()
    assert "DEBUG" in captured.err or "DEBUG" in caplog.text  # DEBUG lines were written
    assert_clean(captured.out + captured.err, "stdout/stderr")
    assert_clean(caplog.text, "the log records")
    for record in caplog.records:
        assert_clean(repr(record.args), f"the args of log record {record.getMessage()[:60]!r}")
    for obj in [*things, *errors]:
        for where, blob in exposure(obj):
            assert_clean(blob, f"the {where} of a {type(obj).__name__}")


def test_tracebacks_with_locals_are_clean_when_the_key_is_not_a_local(
    net: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README advises: keys from the environment or as signer objects keep
    ``capture_locals`` tracebacks (Sentry, rich, pytest --showlocals) clean."""
    source = net.publish_source()
    # no Vault balance (and not the source's client): the chain refuses after the upload
    monkeypatch.setenv("CLIENT_PRIVATE_KEY", SENTINEL)
    for key in (None, resolve_signer(SENTINEL)):
        with pytest.raises(OGPUError) as info:
            publish_task(net.task_info(source, {"text": "x"}), key)
        rendered = "".join(
            traceback.TracebackException.from_exception(info.value, capture_locals=True).format()
        )
        assert_clean(rendered, "a traceback captured with locals")
