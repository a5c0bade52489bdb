"""Unit tests of revert extraction (node error shapes) and the reason -> typed error mapping."""

from __future__ import annotations

import ogpu.types as t
import pytest
from eth_abi import encode
from eth_utils import keccak
from ogpu.chain._rpc import RpcErrorObject
from ogpu.protocol import decode_revert
from ogpu.protocol._revert import RevertContext, extract_revert, map_revert


def error_string(reason: str) -> str:
    return "0x08c379a0" + encode(["string"], [reason]).hex()


@pytest.mark.parametrize(
    "error",
    [
        RpcErrorObject(3, "execution reverted: NotOwner", error_string("NotOwner")),
        t.TxRpcError("execution reverted", 3, error_string("NotOwner")),
        {
            "code": -32603,
            "message": "Error: VM Exception while processing transaction: "
            "reverted with reason string 'NotOwner'",
            "data": {"message": "x", "data": error_string("NotOwner")},
        },
        {
            "code": -32603,
            "message": "Error: VM Exception while processing transaction: "
            "reverted with reason string 'NotOwner'",
        },
        {"code": -32000, "message": "VM Exception while processing transaction: revert NotOwner"},
        {
            "code": -32000,
            "message": "x",
            "data": {"0xabc": {"error": "revert", "return": error_string("NotOwner")}},
        },
        "execution reverted: NotOwner",
        RuntimeError("execution reverted: NotOwner"),
    ],
)
def test_extract_revert_shapes(error: object) -> None:
    info = extract_revert(error)
    assert info is not None and info.reason == "NotOwner"


def test_extract_panic_custom_and_non_reverts() -> None:
    panic = "0x4e487b71" + encode(["uint256"], [0x11]).hex()
    assert (
        extract_revert({"code": 3, "message": "execution reverted", "data": panic}).reason
        == "Panic(0x11)"
    )
    custom = "0x" + keccak(text="OwnableUnauthorizedAccount(address)")[:4].hex() + "00" * 32
    # the decoded arguments are part of the reason now (live-chain.md row 15)
    assert extract_revert({"code": 3, "message": "execution reverted", "data": custom}).reason == (
        "OwnableUnauthorizedAccount(0x0000000000000000000000000000000000000000)"
    )
    assert extract_revert({"code": -32000, "message": "nonce too low"}) is None
    assert extract_revert({"code": -32000, "message": "insufficient funds for gas"}) is None
    assert extract_revert({"code": 3, "message": "execution reverted"}).reason == ""


def ctx(**kw: object) -> RevertContext:
    return RevertContext("op", "0xCaller", **kw)  # type: ignore[arg-type]


def test_mapping_table() -> None:
    def m(reason: str, **kw: object) -> Exception:
        return map_revert(extract_revert(f"execution reverted: {reason}"), ctx(**kw))  # type: ignore[arg-type]

    e = m("NotOwner", owner_kind="task", task="0xT")
    assert isinstance(e, t.NotTaskOwnerError) and (e.task, e.caller) == ("0xT", "0xCaller")
    e = m("NotOwner", owner_kind="source", source="0xS")
    assert isinstance(e, t.NotSourceOwnerError) and e.source == "0xS"
    e = m("NotOwner", owner_kind="task", response="0xR", lookups={"task": lambda: "0xT2"})
    assert isinstance(e, t.NotTaskOwnerError) and e.task == "0xT2"
    assert isinstance(m("NotMaster"), t.NotMasterError)
    assert m("NotProvider").account == "0xCaller"  # type: ignore[attr-defined]
    e = m("Expired", task="0xT", expiry=55)
    assert isinstance(e, t.TaskExpiredError) and e.expiry == 55
    assert m("AlreadyConfirmed", response="0xR").response == "0xR"  # type: ignore[attr-defined]
    assert m("AlreadyFinalized", task="0xT").task == "0xT"  # type: ignore[attr-defined]
    e = m("InsufficientBalance", account="0xA", required=9, lookups={"balance": lambda: 4})
    assert isinstance(e, t.InsufficientBalanceError) and (e.account, e.required, e.available) == (
        "0xA",
        9,
        4,
    )
    e = m("InsufficientLockup", lookups={"required_lockup": lambda: 7, "lockup": lambda: 1})
    assert isinstance(e, t.InsufficientLockupError) and (e.required, e.available) == (7, 1)
    e = m("UnbondingNotElapsed", lookups={"remaining": lambda: 30})
    assert isinstance(e, t.UnbondingPeriodNotElapsedError) and e.remaining_seconds == 30
    assert isinstance(m("NotEligible"), t.NotEligibleError)
    assert m("SourceInactive", source="0xS").source == "0xS"  # type: ignore[attr-defined]
    e = m("PaymentTooLow")
    assert isinstance(e, t.TxRevertError) and e.reason == "PaymentTooLow"
    # a failing follow-up read falls back to defaults instead of masking the revert
    e = m("InsufficientBalance", lookups={"balance": lambda: 1 / 0})
    assert isinstance(e, t.InsufficientBalanceError) and e.available == 0


def test_decode_revert_public_helper() -> None:
    e = decode_revert(
        RuntimeError("execution reverted: NotOwner"),
        context="Controller.cancelTask(0x1)",
        caller="0xC",
    )
    assert isinstance(e, t.NotTaskOwnerError) and e.caller == "0xC"
    e = decode_revert(
        RuntimeError("execution reverted: NotOwner"),
        context="Nexus.updateSource(0x1)",
        caller="0xC",
    )
    assert isinstance(e, t.NotSourceOwnerError)
