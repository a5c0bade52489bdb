"""JSON-RPC dispatch: the method registry (names, aliases, arity), and notifications (requests
without ``id``: executed, answered with nothing) over the devnet's real socket and through a
:class:`~ogpu_devnet.testing.FaultProxy`."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from ogpu_devnet._jsonrpc import METHODS, MethodRegistry, MethodSpec, dispatch
from ogpu_devnet.rpc import RPCMethods
from ogpu_devnet.testing import FaultProxy


def _post(url: str, body: Any) -> requests.Response:
    return requests.post(url, json=body, timeout=30)


def _call(method: str, params: list[Any], rid: Any = 1) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def _notify(method: str, params: list[Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def _block_number(url: str) -> int:
    return int(_post(url, _call("eth_blockNumber", [])).json()["result"], 16)


# --------------------------------------------------------------------------- the registry


def test_registry_refuses_a_name_declared_twice() -> None:
    registry = MethodRegistry()

    @registry.method("x_one", "x_alias", max_params=1)
    def one(self: Any, params: list[Any]) -> int:
        return 1

    for name, aliases in (("x_one", ()), ("x_two", ("x_alias",)), ("x_alias", ())):
        with pytest.raises(ValueError, match="declared twice"):
            registry.method(name, *aliases)(one)
    with pytest.raises(ValueError, match="declared twice"):
        registry.method("x_three", "x_three")(one)
    with pytest.raises(ValueError, match="block_param"):
        registry.method("x_four", max_params=1, block_param=1)(one)
    assert registry.names() == ["x_alias", "x_one"]
    assert [spec.name for spec in registry] == ["x_one"]
    spec = registry.lookup("x_alias")
    assert spec is not None and spec.handler is one and spec.max_params == 1


def test_the_devnet_declares_its_methods_once_with_their_aliases() -> None:
    declared = RPCMethods.declared()
    assert declared == list(METHODS) and len(declared) == 52
    names = [name for spec in declared for name in spec.names]
    assert len(names) == len(set(names)) == 58
    by_name = {name: spec for spec in declared for name in spec.names}
    assert by_name["anvil_mine"] is by_name["hardhat_mine"]
    assert by_name["hardhat_getAutomine"].name == "anvil_getAutomine"
    assert by_name["eth_getStorageAt"].max_params == 3
    assert by_name["eth_getStorageAt"].block_param == 2
    assert by_name["eth_chainId"].max_params == 0


def test_every_declared_method_answers_and_its_arity_holds(devnet_isolated: Any) -> None:
    """Each declared name (aliases too) is served: never -32601; one parameter more than it
    declares is -32602 "too many arguments", its declared count is never refused for that."""
    url = devnet_isolated.rpc_url
    specs: list[tuple[str, MethodSpec]] = [(n, s) for s in METHODS for n in s.names]
    batch = [_call(name, [None] * spec.max_params, rid=i) for i, (name, spec) in enumerate(specs)]
    answers = {a["id"]: a for a in _post(url, batch).json()}
    assert len(answers) == len(specs)
    for i, (name, _spec) in enumerate(specs):
        error = answers[i].get("error") or {}
        assert error.get("code") != -32601, (name, error)
        assert "too many arguments" not in str(error.get("message")), (name, error)
    batch = [
        _call(name, [None] * (spec.max_params + 1), rid=i) for i, (name, spec) in enumerate(specs)
    ]
    answers = {a["id"]: a for a in _post(url, batch).json()}
    for i, (name, spec) in enumerate(specs):
        assert answers[i]["error"] == {
            "code": -32602,
            "message": f"invalid params: too many arguments, want at most {spec.max_params}",
        }, name


def test_dispatch_calls_the_declared_handler_with_the_params() -> None:
    registry = MethodRegistry()

    @registry.method("x_echo", max_params=2)
    def echo(self: Any, params: list[Any]) -> list[Any]:
        return params

    seen: list[str] = []

    def call(spec: MethodSpec, params: list[Any]) -> object:
        seen.append(spec.name)
        return spec.handler(None, params)

    request = {"jsonrpc": "2.0", "id": "a", "method": "x_echo", "params": [1, 2]}
    assert dispatch(request, call, registry) == {"jsonrpc": "2.0", "id": "a", "result": [1, 2]}
    del request["id"]
    assert dispatch(request, call, registry) is None  # a notification: run, not answered
    assert seen == ["x_echo", "x_echo"]


# --------------------------------------------------------------------------- notifications


def test_notifications_are_answered_with_nothing(devnet_isolated: Any) -> None:
    """JSON-RPC 2.0 section 4.1, as geth answers over HTTP: a request without ``id`` is
    executed and gets HTTP 200 with an empty body; in a batch it gets no entry; a batch of
    notifications only gets an empty body too. ``"id": null`` is not a notification."""
    url = devnet_isolated.rpc_url
    start = _block_number(url)
    answer = _post(url, _notify("evm_mine", []))
    assert (answer.status_code, answer.content) == (200, b"")
    assert answer.headers["Content-Type"] == "application/json"
    assert _block_number(url) == start + 1  # executed

    batch = [
        _notify("evm_mine", []),
        _call("eth_blockNumber", [], rid=7),
        _notify("no_such_method", []),
        _notify("eth_getBalance", ["0x12"]),
        _call("eth_chainId", [], rid=None),
    ]
    answer = _post(url, batch)
    assert answer.status_code == 200
    assert answer.json() == [
        {"jsonrpc": "2.0", "id": 7, "result": hex(start + 2)},
        {"jsonrpc": "2.0", "id": None, "result": hex(31071)},
    ]

    answer = _post(url, [_notify("evm_mine", []), _notify("eth_chainId", [])])
    assert (answer.status_code, answer.content) == (200, b"")
    assert _block_number(url) == start + 3

    # Failing notifications are not answered either; invalid requests without id are (-32600).
    for body in (_notify("no_such_method", []), _notify("eth_chainId", [1])):
        answer = _post(url, body)
        assert (answer.status_code, answer.content) == (200, b"")
    for body in ({"method": "eth_chainId"}, {"jsonrpc": "2.0", "method": 1}, [{"jsonrpc": "2"}]):
        answer = _post(url, body).json()
        error = (answer[0] if isinstance(answer, list) else answer)["error"]
        assert error["code"] == -32600


def test_an_empty_answer_keeps_the_connection_usable(devnet_isolated: Any) -> None:
    parts = urlsplit(devnet_isolated.rpc_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        for body, expected in (
            (_notify("eth_chainId", []), b""),
            (_call("eth_chainId", []), b'{"jsonrpc":"2.0","id":1,"result":"0x795f"}'),
            ([_notify("eth_chainId", [])], b""),
            (_call("eth_chainId", []), b'{"jsonrpc":"2.0","id":1,"result":"0x795f"}'),
        ):
            conn.request(
                "POST", "/", body=json.dumps(body), headers={"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, expected)
    finally:
        conn.close()


def test_fault_proxy_relays_the_empty_answer_of_notifications(devnet_isolated: Any) -> None:
    url = devnet_isolated.rpc_url
    start = _block_number(url)
    with FaultProxy(url) as proxy:
        answer = _post(proxy.url, _notify("evm_mine", []))
        assert (answer.status_code, answer.content) == (200, b"")
        proxy.fail_next("evm_mine")  # a fault on a notification: still no answer
        answer = _post(proxy.url, _notify("evm_mine", []))
        assert (answer.status_code, answer.content) == (200, b"")
        proxy.fail_next("eth_chainId")  # batches: no entry for a notification, faults or not
        answer = _post(proxy.url, [_notify("evm_mine", []), _notify("eth_chainId", [])])
        assert (answer.status_code, answer.content) == (200, b"")
        answer = _post(proxy.url, [_notify("eth_chainId", []), _call("eth_chainId", [])])
        assert answer.json() == [
            {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "injected error"}}
        ]
        assert proxy.rpc_calls == 6
    assert _block_number(url) == start + 2  # the faulted notification was not forwarded
