"""The ``ogpu`` command's parser, chain selection and error handling.

Commands live in :mod:`ogpu.cli._commands`; this module imports the SDK only once a command
runs, so ``ogpu --help`` and ``import ogpu.cli`` stay cheap.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ogpu.cli import _parse
from ogpu.cli._exit import EXIT_CODES, EXIT_OK, exit_code_for, one_line

PROG = "ogpu"
CHAINS = ("mainnet", "testnet", "devnet")
WATCH_EVENTS: dict[str, str] = {
    "task-published": "source",
    "registered": "source",
    "attempted": "task",
    "response-submitted": "task",
    "task-status": "task",
    "response-status": "response",
}

_ENV_HELP = (
    "environment: OGPU_CHAIN (mainnet|testnet|devnet), OGPU_RPC_URL, OGPU_DEVNET_MANIFEST; "
    "keys: CLIENT_PRIVATE_KEY (client writes) or any variable named with --key-env"
)


def _epilog() -> str:
    codes = "; ".join(f"{code} {text}" for code, text in EXIT_CODES.items())
    return f"{_ENV_HELP}. Exit status: {codes}."


def _common(suppress: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command (``suppress``: leaf copies keep the
    value given at the top unless repeated)."""
    default: Any = argparse.SUPPRESS if suppress else None
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("chain and output")
    group.add_argument(
        "--chain", choices=CHAINS, default=default, help="network (env OGPU_CHAIN; default mainnet)"
    )
    group.add_argument(
        "--rpc", metavar="URL", default=default, help="JSON-RPC endpoint (env OGPU_RPC_URL)"
    )
    group.add_argument(
        "--manifest",
        metavar="FILE",
        default=default,
        help="devnet manifest written by `ogpu-devnet serve --manifest` (env OGPU_DEVNET_MANIFEST)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="print JSON instead of a table",
    )
    return common


def _key_env(parser: argparse.ArgumentParser, *, required: bool = False, role: str = "") -> None:
    fallback = f" (default: {role})" if role else ""
    parser.add_argument(
        "--key-env",
        metavar="VAR",
        required=required,
        help=f"name of the environment variable holding the signing key{fallback}; "
        "keys are never taken from arguments",
    )


def build_parser() -> argparse.ArgumentParser:
    """The complete argument parser of ``ogpu``."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Inspect and drive the OpenGPU protocol: sources, tasks, responses, "
        "providers, the vault and events.",
        epilog=_epilog(),
        parents=[_common(suppress=False)],
    )
    leaf = _common(suppress=True)
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)

    def add(sub: Any, name: str, help: str, func: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(
            name, help=help, description=help, parents=[leaf]
        )
        p.set_defaults(func=func)
        return p

    # ---------------------------------------------------------------- source
    source = groups.add_parser("source", help="inspect sources").add_subparsers(
        dest="command", metavar="ACTION", required=True
    )
    p = add(source, "show", "a source's snapshot", "source_show")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    p = add(source, "tasks", "a source's tasks, newest first", "source_tasks")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    p.add_argument("--status", type=str.upper, metavar="S",
                   choices=("NEW", "ATTEMPTED", "RESPONDED", "CANCELED", "EXPIRED", "FINALIZED"),
                   help="only tasks in this status (NEW, ATTEMPTED, RESPONDED, CANCELED, "
                   "EXPIRED, FINALIZED)")  # fmt: skip
    p.add_argument("--limit", type=_parse.positive_int, default=20, metavar="N",
                   help="at most N tasks (default 20)")  # fmt: skip

    # ---------------------------------------------------------------- task
    task = groups.add_parser("task", help="inspect, publish and cancel tasks").add_subparsers(
        dest="command", metavar="ACTION", required=True
    )
    p = add(task, "show", "a task's snapshot", "task_show")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    p = add(task, "responses", "the responses submitted for a task", "task_responses")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    p = add(
        task, "publish", "publish a task (and with --wait, wait for its payload)", "task_publish"
    )
    p.add_argument("--source", type=_parse.address, required=True, metavar="ADDR")
    p.add_argument("--function", required=True, metavar="NAME", help="the source's function")
    p.add_argument("--data", type=_parse.json_data, required=True, metavar="JSON|@FILE",
                   help="the function's input: JSON text, @file.json or @- (stdin)")  # fmt: skip
    p.add_argument("--payment", type=_parse.amount, required=True, metavar="AMOUNT",
                   help="wei (1000) or units (0.01ogpu)")  # fmt: skip
    p.add_argument("--expires-in", type=_parse.duration, required=True, metavar="DURATION",
                   help="from the chain's current time: 90s, 15m, 2h")  # fmt: skip
    p.add_argument(
        "--wait", action="store_true", help="wait for the response and print its payload"
    )
    p.add_argument("--timeout", type=_parse.duration, default=600.0, metavar="DURATION",
                   help="how long --wait waits (default 10m)")  # fmt: skip
    p.add_argument("--poll-interval", type=_parse.duration, default=1.0, metavar="DURATION",
                   help="how often --wait reads the task (default 1s)")  # fmt: skip
    _key_env(p, role="CLIENT_PRIVATE_KEY")
    p = add(task, "cancel", "cancel a task (while NEW, or once expired)", "task_cancel")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    _key_env(p, role="CLIENT_PRIVATE_KEY")

    # ---------------------------------------------------------------- response
    response = groups.add_parser("response", help="inspect, fetch and confirm responses")
    rsub = response.add_subparsers(dest="command", metavar="ACTION", required=True)
    p = add(rsub, "show", "a response's snapshot", "response_show")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    p = add(rsub, "fetch", "download a response's payload from IPFS", "response_fetch")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    p.add_argument("--verify", action="store_true", help="check the bytes against the CID")
    p.add_argument("-o", "--output", metavar="FILE", help="write here (whole or not at all)")
    p = add(rsub, "confirm", "confirm a response (pays its provider)", "response_confirm")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    _key_env(p, role="CLIENT_PRIVATE_KEY")

    # ---------------------------------------------------------------- provider
    provider = groups.add_parser("provider", help="inspect providers").add_subparsers(
        dest="command", metavar="ACTION", required=True
    )
    p = add(provider, "show", "a provider's snapshot", "provider_show")
    p.add_argument("address", type=_parse.address, metavar="ADDR")

    # ---------------------------------------------------------------- vault
    vault = groups.add_parser("vault", help="vault balances and writes").add_subparsers(
        dest="command", metavar="ACTION", required=True
    )
    p = add(vault, "balance", "an account's vault balances", "vault_balance")
    p.add_argument("address", type=_parse.address, metavar="ADDR")
    for name, help in (
        ("deposit", "deposit AMOUNT (for --to ADDR, default the signer)"),
        ("withdraw", "withdraw AMOUNT of the liquid balance"),
        ("lock", "lock AMOUNT as stake"),
        ("unbond", "start unbonding AMOUNT of the lockup"),
    ):
        p = add(vault, name, help, "vault_write")
        p.add_argument("amount", type=_parse.amount, metavar="AMOUNT", help="wei or units (1ogpu)")
        if name == "deposit":
            p.add_argument("--to", type=_parse.address, metavar="ADDR", help="account credited")
        _key_env(p, required=True)
    for name, help in (
        ("cancel-unbonding", "cancel the unbonding in progress"),
        ("claim", "claim unbonded funds once the unbonding period has passed"),
    ):
        p = add(vault, name, help, "vault_write")
        p.set_defaults(amount=None)
        _key_env(p, required=True)

    # ---------------------------------------------------------------- watch
    p = add(groups, "watch", "stream protocol events until Ctrl+C (or --count)", "watch")
    p.add_argument("event", choices=sorted(WATCH_EVENTS), metavar="EVENT",
                   help="one of: " + ", ".join(f"{e} (--{t})" for e, t in WATCH_EVENTS.items()))  # fmt: skip
    p.add_argument("--source", type=_parse.address, metavar="ADDR")
    p.add_argument("--task", type=_parse.address, metavar="ADDR")
    p.add_argument("--response", type=_parse.address, metavar="ADDR")
    p.add_argument("--from-block", type=_parse.block_number, metavar="N",
                   help="replay from block N first (default: only new events)")  # fmt: skip
    p.add_argument("--count", type=_parse.positive_int, metavar="N", help="stop after N events")
    p.add_argument("--poll-interval", type=_parse.duration, default=2.0, metavar="DURATION",
                   help="how often to poll the node (default 2s)")  # fmt: skip
    return parser


def configure_chain(args: argparse.Namespace) -> None:
    """Select the chain from ``--manifest`` / ``--chain`` / ``--rpc`` or the environment."""
    from ogpu.chain import ChainConfig, ChainId
    from ogpu.types import ConfigError

    manifest = args.manifest or os.environ.get("OGPU_DEVNET_MANIFEST") or None
    chain_name = args.chain or os.environ.get("OGPU_CHAIN") or None
    rpc = args.rpc or os.environ.get("OGPU_RPC_URL") or None
    chain: Any
    if manifest:
        if chain_name not in (None, "devnet"):
            raise ConfigError(
                f"--manifest describes a devnet; it cannot be used with --chain {chain_name}"
            )
        data = _read_manifest(manifest)
        urls = {
            "ipfs_publish_url": data["ipfs_publish_url"],
            "ipfs_gateway_url": data["ipfs_gateway_url"],
        }
        if data["chain_id"] == ChainId.OGPU_DEVNET.value:
            chain = ChainId.OGPU_DEVNET
            ChainConfig.configure(
                chain, rpc_url=data["rpc_url"], contracts=data["contracts"], **urls
            )
        else:
            chain = ChainConfig.register_chain(
                data["chain_id"], "devnet", data["rpc_url"], data["contracts"], **urls
            )
    else:
        names = {
            "mainnet": ChainId.OGPU_MAINNET,
            "testnet": ChainId.OGPU_TESTNET,
            "devnet": ChainId.OGPU_DEVNET,
        }
        if (chain_name or "mainnet") not in names:
            raise ConfigError(
                f"unknown chain {chain_name!r} in OGPU_CHAIN; use one of {', '.join(CHAINS)}"
            )
        chain = names[chain_name or "mainnet"]
    if rpc:
        ChainConfig.configure(chain, rpc_url=rpc)
    ChainConfig.set_chain(chain)


def _read_manifest(path: str) -> dict[str, Any]:
    import json

    from ogpu.types import ConfigError

    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read the manifest {path!r}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"the manifest {path!r} is not JSON: {exc}") from None
    keys = ("rpc_url", "chain_id", "contracts", "ipfs_publish_url", "ipfs_gateway_url")
    if not isinstance(data, dict) or any(k not in data for k in keys):
        raise ConfigError(f"the manifest {path!r} lacks one of {', '.join(keys)}")
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ogpu`` with ``argv`` (default: the process's); returns the exit code.

    Usage errors exit 2 through argparse (``SystemExit``), before anything is sent.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.group == "watch":
        wanted = WATCH_EVENTS[args.event]
        if getattr(args, wanted) is None:
            parser.error(f"watch {args.event} needs --{wanted} ADDR")
    try:
        from ogpu.cli import _commands

        configure_chain(args)
        command: Callable[[argparse.Namespace], int] = getattr(_commands, args.func)
        return command(args)
    except BrokenPipeError:  # `ogpu ... | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt as exc:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return exit_code_for(exc)
    except Exception as exc:
        from ogpu.ipfs import OGPUError

        if not isinstance(exc, OGPUError):
            raise
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return exit_code_for(exc)
