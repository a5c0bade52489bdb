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
    )
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
        manifest = devnet.manifest()
        if args.manifest:
            write_manifest(args.manifest, manifest)
        if args.provider:
            try:
                providers = _start_providers(devnet, list(args.provider))
            except (_ProviderUnavailable, OGPUError) as exc:
                print(f"ogpu-devnet serve: --provider: {exc}", file=sys.stderr)
                return 2
        print(_banner(manifest))
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
