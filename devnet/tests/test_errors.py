"""The devnet's errors as JSON-RPC clients see them: each class carries its code, one
``error_object()`` builds the ``error`` member, and the object survives pickling; the one
dispatch maps every error class (and Python's own exceptions) to its answer."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest
from ogpu_devnet._jsonrpc import MethodRegistry, MethodSpec, dispatch
from ogpu_devnet.errors import (
    DevnetError,
    ExecutionError,
    ExecutionRevertedError,
    InternalError,
    InvalidParamsError,
    InvalidRequestError,
    MethodNotFoundError,
    ParseError,
    RPCError,
    StateDirError,
    TransactionRejectedError,
)

# Error(string) "nope"
REVERT_NOPE = bytes.fromhex(
    "08c379a0"
    "0000000000000000000000000000000000000000000000000000000000000020"
    "0000000000000000000000000000000000000000000000000000000000000004"
    "6e6f706500000000000000000000000000000000000000000000000000000000"
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ParseError("parse error: invalid JSON"), (-32700, "parse error: invalid JSON")),
        (InvalidRequestError("use POST"), (-32600, "use POST")),
        (
            MethodNotFoundError("eth_nope"),
            (-32601, "the method eth_nope does not exist/is not available"),
        ),
        (InvalidParamsError("bad block"), (-32602, "invalid params: bad block")),
        (InternalError("unencodable answer"), (-32603, "unencodable answer")),
        (TransactionRejectedError("nonce too low"), (-32000, "nonce too low")),
        (ExecutionError("out of gas"), (-32000, "out of gas")),
        (StateDirError("corrupt journal"), (-32000, "corrupt journal")),
        (DevnetError("anything else"), (-32000, "anything else")),
        (RPCError(-32000, "filter not found"), (-32000, "filter not found")),
        (ExecutionRevertedError(b""), (3, "execution reverted")),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else "",
)
def test_each_class_carries_its_code_and_message(
    error: DevnetError, expected: tuple[int, str]
) -> None:
    code, message = expected
    assert error.error_object() == {"code": code, "message": message}
    assert error.code == code
    if not isinstance(error, RPCError):  # the class, not the instance, says the code
        assert type(error).code == code


def test_data_goes_in_the_error_object_when_there_is_some() -> None:
    reverted = ExecutionRevertedError(REVERT_NOPE)
    assert reverted.error_object() == {
        "code": 3,
        "message": "execution reverted: nope",
        "data": "0x" + REVERT_NOPE.hex(),
    }
    assert RPCError(5, "five", "0x05").error_object() == {
        "code": 5,
        "message": "five",
        "data": "0x05",
    }
    assert RPCError(5, "five").to_json() == {"code": 5, "message": "five"}


@pytest.mark.parametrize(
    "error",
    [
        ExecutionRevertedError(REVERT_NOPE),
        RPCError(-32000, "header not found", "0x01"),
        MethodNotFoundError("eth_nope"),
        InvalidParamsError("bad block"),
        ParseError("parse error: invalid JSON"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_error_objects_survive_pickling(error: DevnetError) -> None:
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert clone.error_object() == error.error_object()
    assert vars(clone) == vars(error)


def test_every_devnet_error_class_has_an_integer_code() -> None:
    import importlib
    import pkgutil

    import ogpu_devnet

    for info in pkgutil.walk_packages(ogpu_devnet.__path__, "ogpu_devnet."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    todo: list[type[DevnetError]] = [DevnetError]
    seen = 0
    while todo:
        cls = todo.pop()
        seen += 1
        assert isinstance(cls.code, int) and not isinstance(cls.code, bool), cls
        todo.extend(cls.__subclasses__())
    assert seen > 10


def _answer_raising(exc: BaseException, *, notification: bool = False) -> Any:
    registry = MethodRegistry()

    @registry.method("x_fail")
    def fail(self: Any, params: list[Any]) -> None:
        raise exc

    request: dict[str, Any] = {"jsonrpc": "2.0", "method": "x_fail"}
    if not notification:
        request["id"] = 9

    def call(spec: MethodSpec, params: list[Any]) -> object:
        return spec.handler(None, params)

    return dispatch(request, call, registry)


@pytest.mark.parametrize(
    "exc",
    [
        ExecutionRevertedError(REVERT_NOPE),
        InvalidParamsError("bad block"),
        TransactionRejectedError("already known"),
        RPCError(-32000, "filter not found"),
        StateDirError("gone"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_dispatch_answers_a_devnet_error_with_its_error_object(exc: DevnetError) -> None:
    assert _answer_raising(exc) == {"jsonrpc": "2.0", "id": 9, "error": exc.error_object()}
    assert _answer_raising(exc, notification=True) is None


@pytest.mark.parametrize("exc", [KeyError("from"), TypeError(), ValueError(), OverflowError()])
def test_python_errors_from_bad_params_are_invalid_params(exc: Exception) -> None:
    answer = _answer_raising(exc)
    assert answer["error"] == {
        "code": -32602,
        "message": f"invalid params: {type(exc).__name__}",
    }


def test_unexpected_errors_are_internal_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ogpu_devnet.rpc"):
        answer = _answer_raising(RuntimeError("boom"))
    assert answer == {
        "jsonrpc": "2.0",
        "id": 9,
        "error": {"code": -32603, "message": "internal error: RuntimeError"},
    }
    (record,) = [r for r in caplog.records if r.name == "ogpu_devnet.rpc"]
    assert record.exc_info is not None and "x_fail" in record.getMessage()
