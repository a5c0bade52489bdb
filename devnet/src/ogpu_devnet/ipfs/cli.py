"""``ogpu-devnet ipfs``: run only the mock IPFS pinning service until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from ogpu.ipfs.cid import CHUNK_SIZE

from ogpu_devnet.ipfs._service import DEFAULT_MAX_UPLOAD, MockPinningService


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``ipfs`` subcommand's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5001, help="bind port (default 5001; 0: any)")
    parser.add_argument("--state-dir", default=None, help="keep pinned content here across runs")
    parser.add_argument(
        "--max-upload",
        type=int,
        default=DEFAULT_MAX_UPLOAD,
        metavar="BYTES",
        help=f"reject larger uploads with 413 (default {DEFAULT_MAX_UPLOAD})",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        metavar="BYTES",
        help="pin uploads with this chunk size (default: ipfs add's 262144)",
    )
    parser.add_argument(
        "--raw-leaves",
        action="store_true",
        help="pin uploads with raw leaves (ipfs add --raw-leaves)",
    )
    parser.add_argument(
        "--cid-version",
        type=int,
        choices=(0, 1),
        default=0,
        help="spell answered links as CIDv0 (default) or CIDv1",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit code."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    service = MockPinningService(
        args.host, args.port, state_dir=args.state_dir, max_upload=args.max_upload
    )
    if args.chunk_size is not None or args.raw_leaves or args.cid_version:
        try:
            service.faults.other_chunking(
                CHUNK_SIZE if args.chunk_size is None else args.chunk_size,
                raw_leaves=args.raw_leaves,
                cid_version=args.cid_version,
            )
        except ValueError as exc:
            print(f"ogpu-devnet ipfs: error: {exc}", file=sys.stderr)
            return 2
    try:
        service.start()
    except OSError as exc:
        print(
            f"ogpu-devnet ipfs: error: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 1
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"mock pinning service at {service.base_url}")
        print(f"  publish:  {service.publish_url}")
        print(f"  gateway:  {service.gateway_url}")
        print(f"  kubo api: {service.kubo_api_url}/api/v0/add")
        print(f"  state:    {args.state_dir or 'memory'}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        service.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print("stopped", flush=True)
    return 0
