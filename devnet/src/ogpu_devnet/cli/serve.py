"""``ogpu-devnet serve``: run the chain, its JSON-RPC server and the mock pinning service.

Prints the RPC URL, the pinning service's publish and gateway URLs, the contract addresses and
the funded accounts (public test keys, as anvil prints them), optionally writes them as JSON to
``--manifest``, and runs until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ogpu_devnet.chain import DEFAULT_CHAIN_ID

DEFAULT_RPC_PORT = 8545
DEFAULT_IPFS_PORT = 5001


def write_manifest(path: str | os.PathLike[str], manifest: dict[str, Any]) -> Path:
    """Write ``manifest`` as JSON to ``path`` atomically (temp file + rename); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target)
    return target


def _non_negative(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _positive(text: str) -> int:
    value = _non_negative(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _drop_spec(text: str) -> tuple[str, int]:
    method, _, times = text.partition(":")
    if not method:
        raise ValueError(f"--drop-after {text!r}: expected METHOD or METHOD:TIMES")
    return method, _positive(times) if times else 1


def _port(text: str) -> int:
    value = _non_negative(text)
    if value > 65535:
        raise argparse.ArgumentTypeError("ports go up to 65535")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``serve``."""
    from ogpu_devnet._devnet import DEFAULT_MIN_LOCKUP_PER_SOURCE, DEFAULT_UNBONDING_PERIOD

    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument(
        "--rpc-port", type=_port, default=DEFAULT_RPC_PORT, help="JSON-RPC port (8545; 0 = free)"
    )
    parser.add_argument(
        "--ipfs-port",
        type=_port,
        default=DEFAULT_IPFS_PORT,
        help="pinning service port (5001; 0 = free)",
    )
    parser.add_argument(
        "--state-dir", default=None, help="keep chain state and pinned content here across restarts"
    )
    parser.add_argument(
        "--chain-id", type=_non_negative, default=DEFAULT_CHAIN_ID, help="chain id (31071)"
    )
    parser.add_argument("--manifest", default=None, help="write URLs, contracts, keys as JSON here")
    parser.add_argument(
        "--unbonding-period",
        type=_non_negative,
        default=DEFAULT_UNBONDING_PERIOD,
        help=f"Vault unbonding period in seconds ({DEFAULT_UNBONDING_PERIOD})",
    )
    parser.add_argument(
        "--min-lockup",
        type=_non_negative,
        default=DEFAULT_MIN_LOCKUP_PER_SOURCE,
        help=f"Vault minimum lockup per source in wei ({DEFAULT_MIN_LOCKUP_PER_SOURCE})",
    )
    # Fault knobs: behave like the live network's RPC (see ogpu_devnet.rpc).
    parser.add_argument(
        "--max-batch",
        type=_positive,
        default=None,
        metavar="N",
        help="refuse JSON-RPC batches of more than N calls, as geth does (default 1000)",
    )
    parser.add_argument(
        "--no-batch", action="store_true", help="refuse every JSON-RPC batch (HTTP 400)"
    )
    parser.add_argument(
        "--lag",
        type=_non_negative,
        default=0,
        metavar="N",
        help="answer the first N HTTP requests as a replica --lag-blocks behind the head",
    )
    parser.add_argument(
        "--lag-blocks", type=_positive, default=1, metavar="B", help="blocks behind (1)"
    )
    parser.add_argument(
        "--drop-after",
        action="append",
        default=[],
        metavar="METHOD[:TIMES]",
        help="execute, then hang up before answering, the next request(s) of METHOD (repeatable)",
    )
    parser.add_argument(
        "--backend",
        choices=("pyevm", "hardhat"),
        default="pyevm",
        help="pyevm: the embedded chain (default); hardhat: Hardhat's node (Node.js, npm ci once)",
    )
    # Hook for the provider runtime: each MODULE:FUNCTION is a source handler that
    # ogpu_devnet.provider.start_providers(devnet, specs) runs against this devnet.
    parser.add_argument(
        "--provider",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="run a provider with this source handler (repeatable)",
    )
    # A real source service (ogpu.service) driven over HTTP: ogpu_devnet.provider._http_service.
    service = parser.add_mutually_exclusive_group()
    service.add_argument(
        "--provider-service",
        default=None,
        metavar="URL",
        help="run a provider driving this running source service (started with "
        "CALLBACK_URL=http://127.0.0.1:5556/callback)",
    )
    service.add_argument(
        "--provider-source",
        default=None,
        metavar="PATH/main.py",
        help="start this source's main.py (ogpu.service) and run a provider driving it",
    )
    parser.add_argument(
        "--provider-callback-port",
        type=_port,
        default=None,
        help="the provider's callback server port (5556 with --provider-service, else free)",
    )
    parser.add_argument(
        "--provider-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds the source-service provider waits for a result before giving a task up (30)",
    )


def _banner(manifest: dict[str, Any]) -> str:
    lines = [
        "ogpu-devnet",
        "",
        f"Chain id         {manifest['chain_id']}",
        f"JSON-RPC         {manifest['rpc_url']}",
        f"IPFS publish     {manifest['ipfs_publish_url']}",
        f"IPFS gateway     {manifest['ipfs_gateway_url']}",
        "",
        "Contracts",
    ]
    lines += [f"  {name:<11} {address}" for name, address in manifest["contracts"].items()]
    lines += ["", "Funded accounts (10000 ETH each; PUBLIC test keys, never use them for value)"]
    for i, acct in enumerate(manifest["accounts"]):
        lines.append(f"  ({i}) {acct['address']}  {acct['private_key']}")
    return "\n".join(lines)


def _start_providers(devnet: Any, specs: list[str]) -> Any:
    try:
        module = importlib.import_module("ogpu_devnet.provider")
    except ImportError:
        module = None
    start = getattr(module, "start_providers", None)
    if start is None:
        raise _ProviderUnavailable(
            "--provider needs the provider runtime (ogpu_devnet.provider.start_providers), "
            "which this installation does not have"
        )
    return start(devnet, specs)


class _ProviderUnavailable(Exception):
    pass


class _Both:
    """Stop the in-process providers (if any) and the source-service provider together."""

    def __init__(self, first: Any, second: Any) -> None:
        self.groups = [g for g in (first, second) if g is not None]

    def stop(self) -> None:
        for group in self.groups:
            group.stop()


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit code."""
    from ogpu.ipfs import OGPUError

    from ogpu_devnet._devnet import Devnet
    from ogpu_devnet.chain import DevnetError

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    backend = getattr(args, "backend", "pyevm")
    if backend == "hardhat" and args.state_dir:
        print(
            "ogpu-devnet serve: --state-dir is not supported with --backend hardhat",
            file=sys.stderr,
        )
        return 2
    devnet: Any = Devnet(
        host=args.host,
        rpc_port=args.rpc_port,
        ipfs_port=args.ipfs_port,
        state_dir=args.state_dir,
        chain_id=args.chain_id,
        unbonding_period=args.unbonding_period,
        min_lockup_per_source=args.min_lockup,
        max_batch=args.max_batch,
        no_batch=args.no_batch,
    )
    try:
        drops = [_drop_spec(spec) for spec in args.drop_after]
    except (ValueError, argparse.ArgumentTypeError) as exc:
        print(f"ogpu-devnet serve: {exc}", file=sys.stderr)
        return 2
    if backend == "hardhat" and (args.max_batch or args.no_batch or args.lag or args.drop_after):
        print(
            "ogpu-devnet serve: the RPC fault knobs (--max-batch, --no-batch, --lag, "
            "--drop-after) need the embedded backend (--backend pyevm)",
            file=sys.stderr,
        )
        return 2
    if backend == "hardhat":
        from ogpu_devnet._hardhat import HardhatDevnet

        devnet = HardhatDevnet(
            host=args.host,
            rpc_port=args.rpc_port,
            ipfs_port=args.ipfs_port,
            chain_id=args.chain_id,
            unbonding_period=args.unbonding_period,
            min_lockup_per_source=args.min_lockup,
        )
    providers: Any = None
    try:
        try:
            devnet.start()
        except (DevnetError, OSError) as exc:
            print(f"ogpu-devnet serve: cannot start: {exc}", file=sys.stderr)
            return 1
        if args.lag:
            devnet.lag(args.lag, args.lag_blocks)
        for method, times in drops:
            devnet.drop_after(method, times)
        manifest = devnet.manifest()
        if args.manifest:
            write_manifest(args.manifest, manifest)
        if args.provider:
            try:
                providers = _start_providers(devnet, list(args.provider))
            except (_ProviderUnavailable, OGPUError, DevnetError) as exc:
                print(f"ogpu-devnet serve: --provider: {exc}", file=sys.stderr)
                return 2
        service_group: Any = None
        if getattr(args, "provider_service", None) or getattr(args, "provider_source", None):
            from ogpu_devnet.provider import start_service_providers

            try:
                service_group = start_service_providers(
                    devnet,
                    service_url=args.provider_service,
                    source_path=args.provider_source,
                    callback_port=args.provider_callback_port,
                    handler_timeout=args.provider_timeout,
                )
            except (OGPUError, DevnetError) as exc:
                if providers is not None:
                    providers.stop()
                print(f"ogpu-devnet serve: source service: {exc}", file=sys.stderr)
                return 2
            providers = _Both(providers, service_group)
        print(_banner(manifest))
        if service_group is not None:
            print(
                f"\nProvider {service_group.providers[0]} drives the source service at "
                f"{service_group.service_url} (callbacks: {service_group.callbacks.url})"
            )
        if args.manifest:
            print(f"\nManifest written to {args.manifest}")
        print(f"\nListening on {manifest['rpc_url']} (Ctrl+C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
        print("Stopping...", flush=True)
        return 0
    finally:
        if providers is not None and hasattr(providers, "stop"):
            providers.stop()
        devnet.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
