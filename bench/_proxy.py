"""The bench's proxy: :class:`ogpu_devnet.testing.FaultProxy` in front of the whole devnet,
adding a fixed delay to every request and counting them by phase.

Everything the SDKs under test send goes through it: ``/rpc`` is forwarded to the JSON-RPC
node, every other path (``/file/create``, ``/ipfs/CID``) to the pinning service. A client
(or the harness) names the current phase with ``POST /_phase/NAME`` (``_driver.set_phase``;
not delayed, not counted); every later request is counted under that phase until the next
one. Upstream connections are kept alive (``keep_alive``), as before the bench used
FaultProxy. The delay (FaultProxy's ``latency``) stands for the round trip to a remote public RPC or
a distant gateway: concurrent requests wait concurrently, as they would on a real network.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections import defaultdict

from ogpu_devnet.testing import FaultProxy

PHASE_PATH = "/_phase/"
"""``POST PHASE_PATH + NAME`` starts phase NAME (see ``_driver.set_phase``)."""


class PhaseCounts:
    """Requests seen in one phase: HTTP requests per kind and JSON-RPC calls (batch members)."""

    def __init__(self) -> None:
        self.rpc_requests = 0
        self.rpc_calls = 0
        self.ipfs_requests = 0

    @property
    def requests(self) -> int:
        """Every HTTP request of the phase (JSON-RPC and IPFS)."""
        return self.rpc_requests + self.ipfs_requests

    def as_dict(self) -> dict[str, int]:
        """JSON-friendly form."""
        return {
            "http_requests": self.requests,
            "rpc_requests": self.rpc_requests,
            "rpc_calls": self.rpc_calls,
            "ipfs_requests": self.ipfs_requests,
        }


class CountingProxy(FaultProxy):
    """Forward ``/rpc`` to ``rpc_url`` and everything else to ``ipfs_base`` after ``delay`` s."""

    def __init__(self, rpc_url: str, ipfs_base: str, delay: float) -> None:
        self.delay = delay
        self.phase = "setup"
        self.counts: defaultdict[str, PhaseCounts] = defaultdict(PhaseCounts)
        self._phase_lock = threading.Lock()
        super().__init__(
            rpc_url, latency=delay, rpc_path="/rpc", http_upstream=ipfs_base, keep_alive=True
        )
        self.rpc_url = self.url
        self.publish_url = self.base + "/file/create"
        self.gateway_url = self.base + "/ipfs"

    def control(self, verb: str, path: str, body: bytes) -> bytes | None:
        """``POST /_phase/NAME``: later requests count under NAME."""
        if verb == "POST" and path.startswith(PHASE_PATH):
            self.set_phase(urllib.parse.unquote(path[len(PHASE_PATH) :]))
            return b"ok"
        return None

    def on_request(self, kind: str, calls: int) -> None:
        """Count the request under the current phase."""
        with self._phase_lock:
            c = self.counts[self.phase]
            if kind == "rpc":
                c.rpc_requests += 1
                c.rpc_calls += calls
            else:
                c.ipfs_requests += 1

    def set_phase(self, name: str) -> None:
        """Count later requests under ``name``."""
        with self._phase_lock:
            self.phase = name

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self.close()
