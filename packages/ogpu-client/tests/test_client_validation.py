"""ogpu.client, ogpu.agent and ogpu.events reject bad input with typed errors, before any I/O.

No network is configured: a check that ran after a side effect would fail with a connection
error instead of the typed error asserted here.
"""

from __future__ import annotations

import pytest
from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    SourceInfo,
    TaskClosedError,
    TaskInfo,
    TaskInput,
    WaitTimeoutError,
    cancel_task,
    confirm_response,
    publish_source,
    publish_task,
    set_agent,
)
from ogpu.types import (
    InvalidAddressError,
    InvalidArgumentTypeError,
    MissingSignerError,
    OGPUError,
    StateError,
    ValidationError,
)

from ogpu import agent, events

KEY = "0x" + "11" * 32
SOURCE = "0x" + "22" * 20


def info(**overrides: object) -> SourceInfo:
    values: dict[str, object] = dict(
        name="n", description="d", logoUrl="", imageEnvs=ImageEnvironments(cpu="http://c"),
        minPayment=1, minAvailableLockup=0, maxExpiryDuration=60,
        deliveryMethod=DeliveryMethod.FIRST_RESPONSE,
    )  # fmt: skip
    values.update(overrides)
    return SourceInfo(**values)  # type: ignore[arg-type]


def test_publish_source_validates_first() -> None:
    with pytest.raises(InvalidArgumentTypeError):
        publish_source({"name": "x"}, KEY)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        publish_source(info(imageEnvs=ImageEnvironments()), KEY)
    with pytest.raises(OGPUError):
        publish_source(info(minPayment=-1), KEY)
    with pytest.raises(InvalidArgumentTypeError):
        publish_source(info(deliveryMethod=1), KEY)


def test_missing_signer_is_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLIENT_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("AGENT_PRIVATE_KEY", raising=False)
    with pytest.raises(MissingSignerError):
        publish_source(info())
    with pytest.raises(MissingSignerError):
        agent.attempt(SOURCE, SOURCE, 1)


def test_publish_task_validates_first() -> None:
    task = TaskInfo(source=SOURCE, config=TaskInput("f", {}), expiryTime=10**10, payment=1)
    with pytest.raises(InvalidArgumentTypeError):
        publish_task("task", KEY)  # type: ignore[arg-type]
    with pytest.raises(InvalidAddressError):
        publish_task(TaskInfo(source="0x12", config=task.config, expiryTime=1, payment=1), KEY)
    with pytest.raises(InvalidArgumentTypeError):
        publish_task(TaskInfo(source=SOURCE, config={"f": 1}, expiryTime=1, payment=1), KEY)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        publish_task(task, KEY, total_timeout=0)
    with pytest.raises(ValidationError):
        publish_task(task, KEY, ipfs_retries=-1)
    for bad in (float("nan"), True, "30"):
        with pytest.raises(ValidationError, match="receipt_timeout"):
            publish_task(task, KEY, receipt_timeout=bad)  # type: ignore[arg-type]


def test_address_arguments_are_checked() -> None:
    with pytest.raises(InvalidAddressError):
        cancel_task("nope", KEY)
    with pytest.raises(InvalidAddressError):
        confirm_response("0x1234", KEY)
    with pytest.raises(InvalidArgumentTypeError):
        set_agent(SOURCE, "yes", KEY)  # type: ignore[arg-type]
    with pytest.raises(InvalidAddressError):
        events.watch_attempted("0xnot-an-address")


def test_wait_errors_are_ogpu_errors() -> None:
    err = WaitTimeoutError("0xT", 5.0, "NEW")
    assert isinstance(err, OGPUError) and isinstance(err, TimeoutError)
    assert "0xT" in str(err) and "NEW" in str(err)
    closed = TaskClosedError("0xT", "CANCELED")
    assert isinstance(closed, StateError)
    import pickle

    assert str(pickle.loads(pickle.dumps(err))) == str(err)
    assert pickle.loads(pickle.dumps(closed)).status == "CANCELED"


def test_private_keys_never_in_errors() -> None:
    with pytest.raises(OGPUError) as info_:
        publish_source(info(), "0x" + "zz" * 32)
    assert "zz" * 8 not in str(info_.value)
