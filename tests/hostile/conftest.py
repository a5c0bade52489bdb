"""Fixtures of the hostile-input catalogue (see README.md in this directory).

Built on the cross-package fixtures of ``tests/conftest.py`` (``devnet``, ``ogpu_chain``,
``net``, ``providers``). Added here:

- ``world`` (module): the session devnet with a source, a funded client and one open task,
  built once per module inside an ``evm_snapshot`` that is reverted when the module ends.
- ``Probe``: what a rejected call must leave untouched: every request counter of the pinning
  service, the block number, the pending nonce of every account involved, and the request
  count of a canary server standing for an internal host.
- ``Canary``: a loopback HTTP server counting every request (an "internal" service that a
  hostile URL tries to reach).
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ogpu.ipfs
import pytest
from ogpu.chain import ChainConfig, ChainLike, clear_all_nonce_caches
from ogpu.chain._rpc import forget_written_blocks
from ogpu.client import (
    DeliveryMethod,
    ImageEnvironments,
    Source,
    SourceInfo,
    Task,
    TaskInfo,
    TaskInput,
    publish_source,
    publish_task,
)
from ogpu.protocol import chain_time, vault
from ogpu_devnet.testing import roles

ETHER = 10**18
MIN_PAYMENT = 10**15
MAX_EXPIRY = 3600


class Canary:
    """A loopback HTTP server that answers 200 ``{}`` and counts every request it gets."""

    def __init__(self) -> None:
        self.hits = 0
        self._lock = threading.Lock()
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _hit(self) -> None:
                with canary._lock:
                    canary.hits += 1
                length = int(self.headers.get("Content-Length", "0") or 0)
                if length:
                    self.rfile.read(length)
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _hit

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class World:
    """The devnet as the catalogue sees it: keys, one source, one open task, a canary."""

    devnet: Any
    chain: ChainLike
    client_key: str
    client: str
    other_key: str
    other: str
    source: Source
    task: Task
    canary: Canary
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def w3(self) -> Any:
        return ChainConfig.get_web3()

    def now(self) -> int:
        return chain_time()

    def task_info(self, **changes: Any) -> TaskInfo:
        fields: dict[str, Any] = {
            "source": self.source.address,
            "config": TaskInput(function_name="analyze", data={"text": "hello"}),
            "expiryTime": self.now() + 600,
            "payment": MIN_PAYMENT,
        }
        fields.update(changes)
        return TaskInfo(**fields)

    def source_info(self, **changes: Any) -> SourceInfo:
        fields: dict[str, Any] = {
            "name": "catalogue",
            "description": "hostile input catalogue",
            "logoUrl": "",
            "imageEnvs": ImageEnvironments(cpu="https://example.org/docker-compose.yml"),
            "minPayment": MIN_PAYMENT,
            "minAvailableLockup": 0,
            "maxExpiryDuration": MAX_EXPIRY,
            "deliveryMethod": DeliveryMethod.MANUAL_CONFIRMATION,
        }
        fields.update(changes)
        return SourceInfo(**fields)


@dataclass(frozen=True)
class Snapshot:
    pinning: dict[str, int]
    block: int
    nonces: tuple[int, ...]
    canary: int


class Probe:
    """Records everything a rejected call must leave untouched, and checks it again later."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.before = self.take()

    def take(self) -> Snapshot:
        w3 = self.world.w3
        return Snapshot(
            pinning=self.world.devnet.ipfs.counts,
            block=int(w3.eth.block_number),
            nonces=tuple(
                int(w3.eth.get_transaction_count(a, "pending"))
                for a in (self.world.client, self.world.other)
            ),
            canary=self.world.canary.hits,
        )

    def assert_untouched(self) -> None:
        after = self.take()
        assert after.pinning == self.before.pinning, "the pinning service received a request"
        assert after.block == self.before.block, "a block was mined"
        assert after.nonces == self.before.nonces, "a transaction was sent"
        assert after.canary == self.before.canary, "the internal canary host was reached"


@pytest.fixture(scope="module")
def world(devnet: Any, ogpu_chain: ChainLike) -> Iterator[World]:
    """A source (manual confirmation), a funded client and one open task; reverted at the end."""
    assert devnet.chain is not None
    snapshot_id = devnet.chain.snapshot()
    clear_all_nonce_caches()
    canary = Canary()
    ogpu.ipfs.configure(
        publish_url=devnet.ipfs.publish_url, gateway=devnet.ipfs.gateway_url, backoff=0.0
    )
    try:
        r = roles(devnet)
        client_key, other_key = r.client.private_key, r.other.private_key
        vault.deposit(r.client.address, ETHER, signer=client_key)
        template = World(
            devnet, ogpu_chain, client_key, r.client.address, other_key, r.other.address,
            Source("0x" + "00" * 20), Task("0x" + "00" * 20), canary,
        )  # fmt: skip
        source = publish_source(template.source_info(), client_key)
        template.source = source
        template.task = publish_task(template.task_info(), client_key)
        yield template
    finally:
        canary.close()
        ogpu.ipfs.configure(reset=True)
        devnet.chain.revert(snapshot_id)
        clear_all_nonce_caches()
        forget_written_blocks()
