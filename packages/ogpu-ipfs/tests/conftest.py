"""Fixtures for ogpu-ipfs tests: one mock pinning service per session, reset per test."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import ogpu.ipfs
import pytest
from ogpu_devnet.ipfs import MockPinningService

_ENV = (
    "OGPU_IPFS_PUBLISH_URL",
    "OGPU_IPFS_GATEWAY",
    "OGPU_IPFS_BACKEND",
    "OGPU_IPFS_KUBO_API",
    "OGPU_IPFS_URL_POLICY",
    "OGPU_IPFS_VERIFY",
    "OGPU_IPFS_MAX_BYTES",
    "OGPU_IPFS_CACHE_DIR",
    "OGPU_IPFS_TRUST_CHAIN_URLS",
)


@pytest.fixture(scope="session")
def pinning_service() -> Iterator[MockPinningService]:
    """The session's mock pinning service (use ``svc`` in tests: it is reset per test)."""
    with MockPinningService(max_upload=8 * 1024 * 1024) as service:
        yield service


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    ogpu.ipfs.configure(reset=True)
    ogpu.ipfs.clear_cache()
    yield
    ogpu.ipfs.configure(reset=True)
    ogpu.ipfs.clear_cache()


@pytest.fixture
def svc(pinning_service: MockPinningService) -> Iterator[MockPinningService]:
    """The mock service with faults off and counters at zero; ogpu.ipfs points at it."""
    pinning_service.faults.reset()
    pinning_service.reset_counts()
    ogpu.ipfs.configure(
        publish_url=pinning_service.publish_url,
        gateway=pinning_service.gateway_url,
        kubo_api_url=pinning_service.kubo_api_url,
        backoff=0.0,
    )
    yield pinning_service
    pinning_service.faults.reset()


@pytest.fixture
def dead_url() -> str:
    """An http URL on a loopback port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
