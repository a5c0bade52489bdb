"""Unit tests of ogpu.types: enums, data classes, the error hierarchy."""

from __future__ import annotations

import builtins
import dataclasses
import pickle

import ogpu.ipfs
import ogpu.types as t
import pytest
from ogpu.types import (
    DeliveryMethod,
    Environment,
    ImageEnvironments,
    Receipt,
    ResponseParams,
    Role,
    SourceInfo,
    SourceMetadata,
    SourceParams,
    TaskInfo,
    TaskInput,
    TaskParams,
    TaskStatus,
    combine_environments,
    environment_names,
    parse_environments,
)


def test_enums_match_network_facts() -> None:
    assert [s.value for s in TaskStatus] == [0, 1, 2, 3, 4, 5]
    assert t.SourceStatus.INACTIVE == 1 and t.ResponseStatus.CONFIRMED == 1
    assert DeliveryMethod.FIRST_RESPONSE.value == 1
    assert (Environment.CPU, Environment.NVIDIA, Environment.AMD) == (1, 2, 4)
    assert [r.env_var for r in Role] == [
        "CLIENT_PRIVATE_KEY",
        "PROVIDER_PRIVATE_KEY",
        "MASTER_PRIVATE_KEY",
        "AGENT_PRIVATE_KEY",
    ]


def test_environment_helpers() -> None:
    assert combine_environments(Environment.CPU, Environment.AMD) == 5
    assert combine_environments() == 0
    assert parse_environments(5) == [Environment.CPU, Environment.AMD]
    assert environment_names(7) == ["CPU", "NVIDIA", "AMD"]
    assert environment_names(8) == []


def test_data_classes() -> None:
    meta = SourceMetadata("c", "n", "a", "name", "desc", "logo")
    assert meta.to_dict() == {
        "cpu": "c",
        "nvidia": "n",
        "amd": "a",
        "name": "name",
        "description": "desc",
        "logoUrl": "logo",
    }
    assert ImageEnvironments() == ImageEnvironments("", "", "")
    info = SourceInfo("n", "d", "l", ImageEnvironments(cpu="x"), 1, 2, 3)
    assert info.deliveryMethod is DeliveryMethod.MANUAL_CONFIRMATION
    task_input = TaskInput("predict", {"x": 1}, priority=2)
    assert task_input.to_dict() == {"function_name": "predict", "data": {"x": 1}, "priority": 2}
    TaskInfo("0x" + "1" * 40, task_input, 10, 5)

    class Model:
        def model_dump(self) -> dict[str, int]:
            return {"y": 2}

    assert TaskInput("f", Model()).to_dict()["data"] == {"y": 2}
    sp = SourceParams(
        client="0x" + "a" * 40,
        imageMetadataUrl="u",
        imageEnvironments=1,
        minPayment=1,
        minAvailableLockup=2,
        maxExpiryDuration=3,
        deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
        lastUpdateTime=9,
    )
    assert sp.to_tuple() == ("0x" + "a" * 40, "u", 1, 1, 2, 3, False, "", 1, 9)
    assert SourceParams.from_tuple(sp.to_tuple()).deliveryMethod == 1
    tp = TaskParams(source="0x" + "b" * 40, config="c", expiryTime=5, payment=6)
    assert TaskParams.from_tuple(tp.to_tuple()) == tp
    assert ResponseParams("a", "b", "c", 1).to_tuple() == ("a", "b", "c", 1)


def test_snapshots_are_frozen_with_api_fields() -> None:
    expected = {
        "SourceSnapshot": "address client status params task_count registrant_count",
        "TaskSnapshot": "address source status params payment expiry_time delivery_method "
        "attempt_count winning_provider",
        "ResponseSnapshot": "address task params data status timestamp confirmed",
        "ProviderSnapshot": "address master base_data live_data is_provider "
        "default_agent_disabled balance lockup unbonding unbonding_timestamp total_earnings "
        "frozen_payment sanction is_eligible is_whitelisted",
        "MasterSnapshot": "address provider is_master balance lockup unbonding total_earnings "
        "frozen_payment is_eligible is_whitelisted",
    }
    for name, fields in expected.items():
        cls = getattr(t, name)
        assert cls.__dataclass_params__.frozen
        assert [f.name for f in dataclasses.fields(cls)] == fields.split()


def test_receipt_from_raw_receipt() -> None:
    raw = {
        "transactionHash": b"\x01" * 32,
        "blockNumber": "0x10",
        "gasUsed": 21000,
        "status": "0x1",
        "logs": [{"address": "0xA", "topics": [b"\x02" * 32], "data": "0x", "logIndex": "0x0"}],
    }
    receipt = Receipt.from_web3_receipt(raw, timestamp=7)
    assert receipt.tx_hash == "0x" + "01" * 32 and receipt.block_number == 16
    assert receipt.gas_used == 21000 and receipt.status == 1 and receipt.timestamp == 7
    assert receipt.logs[0]["topics"] == ["0x" + "02" * 32]
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.status = 0  # type: ignore[misc]


HIERARCHY = {
    "NotFoundError": [
        "TaskNotFoundError",
        "SourceNotFoundError",
        "ResponseNotFoundError",
        "ProviderNotFoundError",
        "MasterNotFoundError",
    ],
    "StateError": [
        "TaskExpiredError",
        "TaskAlreadyFinalizedError",
        "ResponseAlreadyConfirmedError",
        "SourceInactiveError",
    ],
    "PermissionError": [
        "NotTaskOwnerError",
        "NotSourceOwnerError",
        "NotMasterError",
        "NotProviderError",
    ],
    "VaultError": [
        "InsufficientBalanceError",
        "InsufficientLockupError",
        "UnbondingPeriodNotElapsedError",
        "NotEligibleError",
    ],
    "TxError": [
        "TxRevertError",
        "NonceError",
        "GasError",
        "InvalidRpcUrlError",
        "TxReceiptTimeoutError",
        "TxRpcError",
    ],
    "ConfigError": ["MissingSignerError", "InvalidSignerError", "ChainNotSupportedError"],
    "IPFSError": ["IPFSFetchError", "IPFSGatewayError", "IPFSIntegrityError"],
}


def test_hierarchy_and_shared_ipfs_classes() -> None:
    for parent, children in HIERARCHY.items():
        base = getattr(t, parent)
        assert issubclass(base, t.OGPUError)
        for child in children:
            assert issubclass(getattr(t, child), base), child
    assert issubclass(t.PublishTimeoutError, t.OGPUError)
    for name in (
        "OGPUError",
        "IPFSError",
        "IPFSFetchError",
        "IPFSGatewayError",
        "IPFSIntegrityError",
    ):
        assert getattr(t, name) is getattr(ogpu.ipfs, name)
    assert t.PermissionError is not builtins.PermissionError
    assert issubclass(t.PermissionError, builtins.PermissionError)
    assert issubclass(t.InvalidAddressError, ValueError)
    assert issubclass(t.InvalidArgumentTypeError, TypeError)


ERRORS = [
    t.TaskNotFoundError("0xa"),
    t.SourceNotFoundError("0xa"),
    t.ResponseNotFoundError("0xa"),
    t.ProviderNotFoundError("0xa"),
    t.MasterNotFoundError("0xa"),
    t.TaskExpiredError("0xa", 5),
    t.TaskAlreadyFinalizedError("0xa"),
    t.ResponseAlreadyConfirmedError("0xa"),
    t.SourceInactiveError("0xa"),
    t.NotTaskOwnerError("0xa", "0xb"),
    t.NotSourceOwnerError("0xa", "0xb"),
    t.NotMasterError("0xa"),
    t.NotProviderError("0xa"),
    t.InsufficientBalanceError("0xa", 2, 1),
    t.InsufficientLockupError("0xa", 2, 1),
    t.UnbondingPeriodNotElapsedError("0xa", 9),
    t.NotEligibleError("0xa"),
    t.TxRevertError("Nope"),
    t.NonceError("0xa", 1, 2),
    t.GasError("x"),
    t.InvalidRpcUrlError("http://x"),
    t.TxReceiptTimeoutError("0xh", 1.5),
    t.TxRpcError("x", 3),
    t.MissingSignerError(Role.CLIENT),
    t.MissingSignerError(),
    t.InvalidSignerError("bad"),
    t.ChainNotSupportedError(5),
    t.PublishTimeoutError(3.0, "ipfs"),
    t.InvalidAddressError("0x12", "short"),
    t.InvalidAmountError(-1, "negative"),
    t.InvalidArgumentTypeError("x", "int", "str"),
    t.IPFSFetchError("u", "r"),
    t.IPFSGatewayError("g", 502),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_pickle_with_fields(error: Exception) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error) and str(clone) == str(error)
    assert {k: v for k, v in vars(clone).items()} == {k: v for k, v in vars(error).items()}


def test_error_fields() -> None:
    e = t.InsufficientBalanceError("0xa", 10, 3)
    assert (e.account, e.required, e.available) == ("0xa", 10, 3)
    assert t.UnbondingPeriodNotElapsedError("0xa", 9).remaining_seconds == 9
    assert t.NonceError("0xa", 1, 2).suggested == 2
    assert t.TxReceiptTimeoutError("0xh", 1.5).tx_hash == "0xh"
    assert t.MissingSignerError(Role.AGENT).role is Role.AGENT
    assert "AGENT_PRIVATE_KEY" in str(t.MissingSignerError(Role.AGENT))
    key = "ab" * 32
    assert key not in str(t.InvalidAddressError(key, "bad"))


def test_ogpu_types_reexports_every_ipfs_error() -> None:
    import ogpu.ipfs
    import ogpu.types

    ipfs_errors = {
        name
        for name in ogpu.ipfs.__all__
        if isinstance(getattr(ogpu.ipfs, name), type)
        and issubclass(getattr(ogpu.ipfs, name), ogpu.ipfs.OGPUError)
    }
    assert "IPFSUntrustedURLError" in ipfs_errors
    missing = sorted(
        n for n in ipfs_errors if getattr(ogpu.types, n, None) is not getattr(ogpu.ipfs, n)
    )
    assert not missing, f"ogpu.types does not re-export {missing}"
    assert ipfs_errors <= set(ogpu.types.__all__)
