"""``ogpu-devnet deploy``: deploy the OpenGPU stub contracts onto any running EVM node.

The deployer's private key is read from the environment variable named by
``--private-key-env`` (never from the command line, never printed). Writes the same manifest
shape as ``serve`` (``accounts`` is empty: the node's keys are not ours to publish).
"""

from __future__ import annotations

import argparse
import os
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the options of ``deploy``."""
    from ogpu_devnet._devnet import DEFAULT_MIN_LOCKUP_PER_SOURCE, DEFAULT_UNBONDING_PERIOD

    parser.add_argument("--rpc-url", required=True, help="JSON-RPC URL of the target node")
    parser.add_argument(
        "--private-key-env",
        required=True,
        metavar="VAR",
        help="name of the environment variable holding the deployer's private key",
    )
    parser.add_argument("--manifest", default=None, help="write URLs and contracts as JSON here")
    parser.add_argument(
        "--unbonding-period", type=int, default=DEFAULT_UNBONDING_PERIOD, help="seconds"
    )
    parser.add_argument(
        "--min-lockup", type=int, default=DEFAULT_MIN_LOCKUP_PER_SOURCE, help="wei per source"
    )
    parser.add_argument(
        "--ipfs-publish-url",
        default="http://127.0.0.1:5001/file/create",
        help="pinning service publish URL recorded in the manifest",
    )
    parser.add_argument(
        "--ipfs-gateway-url",
        default="http://127.0.0.1:5001/ipfs",
        help="IPFS gateway URL recorded in the manifest",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="HTTP timeout in seconds")


def run(args: argparse.Namespace) -> int:
    """Deploy and report; returns the exit code (0 ok, 1 failure, 2 usage)."""
    from web3 import Web3

    from ogpu_devnet.cli.serve import write_manifest
    from ogpu_devnet.contracts import DeployError, deploy_protocol

    key = os.environ.get(args.private_key_env)
    if not key:
        print(
            f"ogpu-devnet deploy: environment variable {args.private_key_env} is not set",
            file=sys.stderr,
        )
        return 2
    w3 = Web3(Web3.HTTPProvider(args.rpc_url, request_kwargs={"timeout": args.timeout}))
    try:
        chain_id = int(w3.eth.chain_id)
    except Exception as exc:
        print(
            f"ogpu-devnet deploy: cannot reach {args.rpc_url}: {type(exc).__name__}",
            file=sys.stderr,
        )
        return 1
    try:
        contracts = deploy_protocol(
            w3,
            key,
            unbonding_period=args.unbonding_period,
            min_lockup_per_source=args.min_lockup,
        )
    except DeployError as exc:
        print(f"ogpu-devnet deploy: {exc}", file=sys.stderr)
        return 1
    manifest = {
        "rpc_url": args.rpc_url,
        "chain_id": chain_id,
        "contracts": {name: str(address) for name, address in contracts.items()},
        "ipfs_publish_url": args.ipfs_publish_url,
        "ipfs_gateway_url": args.ipfs_gateway_url,
        "accounts": [],
    }
    print(f"Deployed the OpenGPU stub protocol on {args.rpc_url} (chain id {chain_id})")
    for name, address in manifest["contracts"].items():
        print(f"  {name:<11} {address}")
    if args.manifest:
        write_manifest(args.manifest, manifest)
        print(f"Manifest written to {args.manifest}")
    return 0
