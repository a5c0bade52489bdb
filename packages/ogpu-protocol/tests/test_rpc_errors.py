"""Could not reach the node" and "the node answered with an error" are sibling classes under
``TxRpcError``, over real sockets; the old private name still works."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from ogpu.chain._rpc import RpcClient
from ogpu.chain._rpc import RpcTransportError as PrivateName
from ogpu.types import RpcNodeError, RpcTransportError, TxRpcError


def test_the_two_are_siblings_and_the_private_name_is_the_public_class() -> None:
    assert PrivateName is RpcTransportError
    assert issubclass(RpcTransportError, TxRpcError) and issubclass(RpcNodeError, TxRpcError)
    assert not issubclass(RpcNodeError, RpcTransportError)
    assert not issubclass(RpcTransportError, RpcNodeError)


def test_a_closed_port_is_a_transport_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RpcClient(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(RpcTransportError) as err:
        client.request("eth_chainId", [])
    assert err.value.code is None


def test_an_error_object_is_a_node_error(devnet: Any) -> None:
    client = RpcClient(devnet.rpc_url, timeout=10)
    with pytest.raises(RpcNodeError) as err:
        client.request("eth_noSuchMethod", [])
    assert err.value.code == -32601
    # in a batch the error object comes back per call, and turns into the same class
    [answer] = client.batch([("eth_noSuchMethod", [])])
    assert isinstance(answer.to_exception(), RpcNodeError)
