"""URLs read from the chain are fetched only as IPFS content through the trusted gateway.

A source, task or response URL is written by whoever published it: a URL naming a loopback
or internal host (also as an integer, hex or IPv6 literal, or behind user info), or a
``file:``/``data:``/``gopher:`` URL, is refused with :class:`IPFSUntrustedURLError` before
any request, and a trap socket standing for the internal host is never contacted. The
opt-in (``configure(trust_chain_urls=True)``) fetches such URLs as they are.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from ogpu.chain import ChainConfig
from ogpu.ipfs import IPFSUntrustedURLError, configure
from ogpu.protocol import Response, Source, Task, controller, nexus
from ogpu.types import TaskParams


class Trap:
    """Listening sockets (IPv4 and, where available, IPv6 loopback) that must stay unused."""

    def __init__(self) -> None:
        self.v4 = socket.socket()
        self.v4.bind(("127.0.0.1", 0))
        self.v4.listen(8)
        self.port = self.v4.getsockname()[1]
        self.v6: socket.socket | None = None
        try:
            v6 = socket.socket(socket.AF_INET6)
            v6.bind(("::1", self.port))
            v6.listen(8)
            self.v6 = v6
        except OSError:
            self.v6 = None

    def contacted(self) -> bool:
        for sock in (self.v4, self.v6):
            if sock is None:
                continue
            sock.settimeout(0.05)
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            conn.close()
            return True
        return False

    def close(self) -> None:
        self.v4.close()
        if self.v6 is not None:
            self.v6.close()


@pytest.fixture
def trap() -> Iterator[Trap]:
    t = Trap()
    try:
        yield t
    finally:
        t.close()


def hostile_urls(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/x",
        f"http://0x7f000001:{port}/x",
        f"http://2130706433:{port}/x",
        f"http://0177.0.0.1:{port}/x",
        f"http://[::1]:{port}/x",
        f"http://[::ffff:127.0.0.1]:{port}/x",
        f"http://cipfs.ogpuscan.io@127.0.0.1:{port}/x",
        f"http://127.0.0.1:{port}/ipfs/not-a-cid",
        f"https://localhost:{port}/metadata.json",
        "file:///etc/passwd",
        'data:application/json,{"name":"x"}',
        f"gopher://127.0.0.1:{port}/_x",
        f"ftp://127.0.0.1:{port}/x",
        "javascript:alert(1)",
    ]


def _publish_task(net: Any, source: Source, config_url: str) -> Task:
    params = TaskParams(
        source=source.address, config=config_url, expiryTime=net.now() + 600, payment=100
    )
    receipt = controller.publish_task(params, signer=net.client.private_key)
    return Task(controller.extract_task_address(receipt))


def _respond(net: Any, task: Task, url: str) -> Response:
    """What a provider's runtime does, with an arbitrary data URL (test-only)."""
    from ogpu.chain import resolve_signer
    from ogpu.protocol import _abi
    from ogpu.protocol._revert import RevertContext
    from ogpu.protocol._tx import transact

    provider = net.register(Source(task.get_source()))
    nexus.attempt(task.address, provider.address, 50, signer=provider.private_key)
    fn = _abi.fn("mainnet", "Nexus", "submit" + "Response")
    transact(
        to=ChainConfig.get_contract_address("NEXUS"),
        data=fn.encode((task.address, provider.address, url, 50)),
        signer=resolve_signer(provider.private_key),
        ctx=RevertContext("test.respond", provider.address),
    )
    response = task.get_response_of(provider.address)
    assert response is not None
    return response


def test_source_metadata_urls_that_are_not_ipfs_are_refused(net: Any, trap: Trap) -> None:
    for url in hostile_urls(trap.port):
        params = replace(net.source_params(), imageMetadataUrl=url)
        receipt = nexus.publish_source(params, signer=net.client.private_key)
        source = Source(nexus.extract_source_address(receipt))
        assert source.get_params().imageMetadataUrl == url
        with pytest.raises(IPFSUntrustedURLError) as err:
            source.get_metadata()
        assert "trust_chain_urls" in str(err.value), url
    assert not trap.contacted()


def test_task_config_and_response_data_urls_are_refused(net: Any, trap: Trap) -> None:
    source = net.publish_source()
    net.fund_client()
    urls = hostile_urls(trap.port)
    tasks = [_publish_task(net, source, url) for url in urls[:4]]
    for task in tasks:
        with pytest.raises(IPFSUntrustedURLError):
            task.get_metadata()
    task = net.publish_task(source)
    response = _respond(net, task, f"http://0x7f000001:{trap.port}/x")
    with pytest.raises(IPFSUntrustedURLError):
        response.fetch_data()
    assert not trap.contacted()


def test_ipfs_urls_on_chain_still_go_through_the_gateway(net: Any, trap: Trap) -> None:
    from ogpu.ipfs import parse_ipfs_url

    cid = parse_ipfs_url(net.metadata_url()).cid
    for url in (
        f"http://127.0.0.1:{trap.port}/ipfs/{cid}",
        f"http://0x7f000001:{trap.port}/ipfs/{cid}",
        f"ipfs://{cid}",
        cid,
    ):
        source = net.publish_source()
        params = source.get_params()
        nexus.update_source(
            source.address, replace(params, imageMetadataUrl=url), signer=net.client.private_key
        )
        assert source.get_metadata()["name"] == "test source"
    assert not trap.contacted()


def test_opt_in_fetches_other_urls_as_they_are(net: Any, trap: Trap) -> None:
    health = f"{net.devnet.ipfs.base_url}/health"  # a plain JSON URL, not IPFS content
    source = net.publish_source()
    params = source.get_params()
    nexus.update_source(
        source.address, replace(params, imageMetadataUrl=health), signer=net.client.private_key
    )
    with pytest.raises(IPFSUntrustedURLError):
        source.get_metadata()
    configure(trust_chain_urls=True)
    try:
        assert source.get_metadata()["service"] == "ogpu-devnet-ipfs"
    finally:
        configure(reset=True)
    with pytest.raises(IPFSUntrustedURLError):
        source.get_metadata()


def test_opt_in_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from ogpu.ipfs import get_settings

    assert get_settings().trust_chain_urls is False
    monkeypatch.setenv("OGPU_IPFS_TRUST_CHAIN_URLS", "1")
    assert get_settings().trust_chain_urls is True


@pytest.mark.parametrize("what", ["ipfs_publish_url", "ipfs_gateway_url"])
@pytest.mark.parametrize("url", ["ftp://host/x", "not a url", "file:///tmp/x"])
def test_an_invalid_ipfs_url_is_not_called_an_rpc_endpoint(what: str, url: str) -> None:
    from ogpu.chain import ChainId
    from ogpu.types import InvalidRpcUrlError, ValidationError

    for call in (
        lambda: ChainConfig.configure(ChainId.OGPU_DEVNET, **{what: url}),
        lambda: ChainConfig.register_chain(
            424243,
            "x",
            "http://127.0.0.1:1",
            {n: "0x" + "11" * 20 for n in ("NEXUS", "CONTROLLER", "TERMINAL", "VAULT")},
            **{what: url},
        ),
    ):
        with pytest.raises(ValidationError) as err:
            call()
        assert not isinstance(err.value, InvalidRpcUrlError)
        assert "RPC" not in str(err.value) and what in str(err.value)
